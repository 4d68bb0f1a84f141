"""What the crash test needs around a real server: a fresh PostgreSQL database, a small world
on it, uvicorn in its own process group (so SIGKILL reaches every worker), and institutions'
clients that keep every message they sent and every answer they got."""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest

from tests.support import world
from tests.support.fsi import Institution
from tests.support.settlement_world import CATALOGUE
from yibao.config import Settings
from yibao.db.migrate import upgrade
from yibao.kernel.money import format_yuan
from yibao.runtime import build_runtime
from yibao.settlement import service
from yibao_bench.server import uvicorn_command

PG_ADMIN_URL = os.environ.get(
    "YIBAO_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PHARMACY = ("P44030500631", "深圳南山大药房", "440300")
# 甲类 (the pooled fund pays 90 % of it in 440300) and 丙类 (all self-paid): every sale moves
# both the fund's yearly totals and the account.
DRUGS = (("XA01ABD075A002010100483", 1250), ("XN06AXA063A001010101005", 1300))


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _admin(sql: str, url: str = PG_ADMIN_URL) -> None:
    conn = await asyncpg.connect(dsn(url), timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def fresh_database(admin_url: str = PG_ADMIN_URL) -> Iterator[str]:
    """A database of its own on the server of `admin_url` (by default the tests' server),
    migrated by the project's migrations, dropped afterwards."""
    name = f"yibao_crash_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"', admin_url))
    except (OSError, asyncpg.PostgresError) as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL unreachable at {admin_url} under CI=true: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {admin_url}: {exc}")
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', admin_url))


@dataclass(frozen=True)
class Holder:
    psn_no: str
    id_number: str
    person_id: int
    funded_fen: int


@dataclass(frozen=True)
class CrashWorld:
    token: str
    holders: list[Holder]


async def build_world(settings: Settings, persons: int) -> CrashWorld:
    """Regions, the catalogue, one pharmacy and `persons` employees with money on their accounts."""
    runtime = build_runtime(settings)
    try:
        async with runtime.sessions() as session:
            await world.define_regions(session)
            rows = [
                (i, service.CatalogueRow(code, name, kind, level, share, cap))
                for i, (code, name, kind, level, share, cap) in enumerate(CATALOGUE, start=1)
            ]
            assert not (await service.import_catalogue(session, rows)).errors
            code, name, admdvs = PHARMACY
            made = await service.add_institution(
                session,
                runtime.cipher,
                runtime.clock,
                service.NewInstitution(code, name, admdvs),
            )
            holders = []
            for n in range(persons):
                id_number = world.new_id_number("440305", birth=date(1970 + n % 30, 1 + n % 12, 9))
                enrolled = await world.enrol(
                    runtime, session, name=f"测试{n:02d}", admdvs=admdvs, id_number=id_number
                )
                # Unlike amounts, and small enough that some accounts run dry during the load.
                funded = 3_000 + 397 * n
                person = enrolled.person
                await world.fund(session, person.id, funded, f"crash:{person.id}")
                holders.append(Holder(person.psn_no, id_number, person.id, funded))
        return CrashWorld(made.token, holders)
    finally:
        await runtime.close()


def _group_members(pgid: int) -> list[int]:
    """Processes of the group that still run (a zombie has already stopped)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


class Server:
    """uvicorn as production runs it (two workers, uvloop, httptools), in a group of its own."""

    def __init__(self, env: dict[str, str], port: int, tmp: Path) -> None:
        self.env, self.port, self.tmp, self.log = env, port, tmp, tmp / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{port}"

    def start(self, timeout: float = 45) -> None:
        command = uvicorn_command(self.port, workers=2)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                command,
                env=self.env,
                cwd=self.tmp,  # no .env of the checkout is read
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the server did not start:\n{self.log.read_text()[-4000:]}")
            time.sleep(0.2)

    def kill(self, sig: int = signal.SIGKILL, timeout: float = 15) -> None:
        """Signal every process of the server (supervisor and workers) and wait until none runs."""
        if self.process is None:
            return
        pgid = self.process.pid
        with suppress(ProcessLookupError):
            os.killpg(pgid, sig)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.process.wait(timeout=timeout)
        deadline = time.monotonic() + timeout
        while (members := _group_members(pgid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not members, f"server processes {members} outlived the signal"
        self.process = None

    def stop(self) -> None:
        self.kill(signal.SIGTERM)


def sale(holder: Holder, rng: random.Random) -> dict[str, Any]:
    """2102's input: one or two drug lines, paid from the account (acct_used_flag 1)."""
    lines = []
    total = 0
    for sn, (code, price) in enumerate(DRUGS[: rng.randint(1, 2)], start=1):
        cnt = rng.randint(1, 3)
        total += price * cnt
        lines.append(
            {
                "feedetl_sn": str(sn),
                "med_list_codg": code,
                "pric": format_yuan(price),
                "cnt": str(cnt),
                "det_item_fee_sumamt": format_yuan(price * cnt),
            }
        )
    return {
        "druginfo": {
            "psn_no": holder.psn_no,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": holder.id_number,
            "med_type": "41",
            "medfee_sumamt": format_yuan(total),
            "insutype": "310",
            "acct_used_flag": "1",
            "psn_setlway": "01",
        },
        "drugdetail": lines,
    }


@dataclass
class Message:
    msgid: str
    holder: Holder
    payload: dict[str, Any]
    answers: list[dict[str, Any]] = field(default_factory=list)
    lost: int = 0  # sent without an answer (the connection broke)

    @property
    def settled(self) -> dict[str, Any] | None:
        return next((a for a in self.answers if a["infcode"] == 0), None)


class Till:
    """A pharmacy's tills: each sends 2102s and keeps what it sent and what came back."""

    def __init__(self, pharmacy: Institution) -> None:
        self.pharmacy = pharmacy
        self.messages: dict[str, Message] = {}

    async def send(self, message: Message) -> dict[str, Any] | None:
        envelope = self.pharmacy.envelope("2102", message.payload, message.msgid)
        try:
            response = await self.pharmacy.http.post(
                "/fsi/api/rsfComIfsService/callService",
                json=envelope,
                headers=self.pharmacy.headers(),  # a fresh nonce and signature every time
            )
        except httpx.HTTPError:
            message.lost += 1
            return None
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        message.answers.append(answer)
        return answer

    def new_message(self, holder: Holder, rng: random.Random) -> Message:
        msgid = self.pharmacy.new_msgid()  # numbered with every other message of the process
        assert msgid not in self.messages
        message = Message(msgid, holder, sale(holder, rng))
        self.messages[msgid] = message
        return message

    async def load(
        self,
        holders: list[Holder],
        *,
        clients: int,
        seconds: float,
        during: Callable[[], Awaitable[None]],
        pause_after_lost: float = 0,
    ) -> None:
        """`clients` tills sending one sale after another; `during` runs beside them and the
        tills stop when it returns (or after `seconds`). With `pause_after_lost`, a till whose
        sale got no answer (the server is down) waits that long before the next one, as a
        cashier does, instead of piling up unanswered sales."""
        stop = asyncio.Event()

        async def till(n: int) -> None:
            rng = random.Random(n)
            deadline = time.monotonic() + seconds
            while not stop.is_set() and time.monotonic() < deadline:
                answer = await self.send(self.new_message(rng.choice(holders), rng))
                if answer is None and pause_after_lost:
                    await asyncio.sleep(pause_after_lost)

        tills = [asyncio.create_task(till(n)) for n in range(clients)]
        try:
            await asyncio.wait_for(during(), timeout=seconds + 30)
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tills, return_exceptions=True), timeout=60)
        for task in tills:
            task.result()

    async def settle_every_message(self, *, tries: int = 3, clients: int = 16) -> None:
        """Send every message again with its msgid, as an institution retries, until answered."""
        gate = asyncio.Semaphore(clients)

        async def retry(message: Message) -> None:
            async with gate:
                for _ in range(tries):
                    answer = await self.send(message)
                    if answer is not None and answer["infcode"] == 0:
                        return
                    await asyncio.sleep(0.2)

        await asyncio.wait_for(
            asyncio.gather(*(retry(m) for m in self.messages.values())), timeout=60
        )
