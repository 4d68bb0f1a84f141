"""Cross-region money survives crashes: pharmacies of B (上海) sell to people insured in A (深圳)
while A's server and then B's server are SIGKILLed and started again, and then A's PostgreSQL and
B's PostgreSQL are each killed (an immediate shutdown: postmaster and backends gone without a
checkpoint, as after kill -9) and started again; each deployment is a real uvicorn on a database
of its own PostgreSQL 15 cluster (tests/support/clusters.py). Afterwards, once the day's
reconciliation has run:

- every A balance equals its opening minus the account parts B acknowledged to its pharmacy
  (infcode 0) and did not reverse;
- nothing is paid twice (one claim at A and one settlement at B per msgid, the same figures);
- a second reconciliation finds no difference, and the month's clearing adds up on both sides.

A message the pharmacy sent without an answer (B killed under it) is sent again with its msgid,
as institutions do; one answered with a failure (A unreachable) is not: the pharmacy was told it
did not settle, so a debit A made for it must be undone by the reconciliation.
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest

from tests.support import world
from tests.support.clusters import Cluster
from tests.support.crash import Holder, Message, Server, Till, dsn, fresh_database
from tests.support.settlement_world import CATALOGUE
from tests.support.two_regions import HOME, TREATMENT, CrossInstitution, directory_json
from yibao.config import Settings
from yibao.crossregion import service as crossregion
from yibao.crossregion.link import HttpPeerLink
from yibao.crossregion.signing import Signer
from yibao.filings import service as filings
from yibao.filings.domain import DocumentKind, FilingKind
from yibao.kernel.clock import china_today
from yibao.kernel.money import parse_yuan
from yibao.runtime import build_runtime
from yibao.settlement import service as settlement
from yibao_bench.server import free_port

pytestmark = pytest.mark.postgres

PERSONS = 12
TILLS = 6
DATA_KEY = base64.b64encode(b"x" * 32).decode()
SECRET_KEY = "xregion-crash-" + "x" * 20
PHARMACY = ("P31010400631", "上海徐汇大药房")


def _settings(url: str, tmp: Path, deployment: str, key: str) -> Settings:
    return Settings(
        environment="production",
        database_url=url,
        data_key=DATA_KEY,
        secret_key=SECRET_KEY,
        var_dir=tmp / "var",
        peer_id=deployment,
        peer_key=key,
        _env_file=None,  # type: ignore[call-arg]
    )


def _server(url: str, tmp: Path, deployment: str, key: str, port: int) -> Server:
    tmp.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIBAO_")}
    env.update(
        YIBAO_ENVIRONMENT="production",
        YIBAO_DATABASE_URL=url,
        YIBAO_DATA_KEY=DATA_KEY,
        YIBAO_SECRET_KEY=SECRET_KEY,
        YIBAO_VAR_DIR=str(tmp / "var"),
        YIBAO_PEER_ID=deployment,
        YIBAO_PEER_KEY=key,
        YIBAO_PEER_TIMEOUT_SECONDS="3",
        YIBAO_DB_POOL_SIZE=str(TILLS),
        YIBAO_LOG_LEVEL="warning",
    )
    return Server(env, port, tmp)


async def _build(a: Settings, b: Settings, directory: str) -> tuple[list[Holder], str]:
    home = build_runtime(a)
    try:
        async with home.sessions() as session:
            await world.define_regions(session)
            await crossregion.load_directory(session, home, directory)
        holders = []
        for n in range(PERSONS):
            async with home.sessions() as session:
                id_number = world.new_id_number("440305")
                enrolled = await world.enrol(
                    home, session, name=f"异地{n:02d}", admdvs=HOME, id_number=id_number
                )
                person = enrolled.person
                funded = 2_000 + 311 * n  # small: some accounts run dry and pay in cash
                await world.fund(session, person.id, funded, f"xr-crash:{person.id}")
                await filings.file(
                    session,
                    home.clock,
                    filings.person_actor(person.id, f"异地{n:02d}"),
                    person.id,
                    filings.Application(
                        kind=FilingKind.WORKING_AWAY,
                        treatment_admdvs=TREATMENT,
                        treatment_name="上海市",
                        begins=china_today(home.clock),
                        document_kind=DocumentKind.DECLARATION,
                        document_note="常驻上海工作",
                    ),
                )
                holders.append(Holder(person.psn_no, id_number, person.id, funded))
    finally:
        await home.close()
    treatment = build_runtime(b)
    try:
        async with treatment.sessions() as session:
            await world.define_regions(session)
            await crossregion.load_directory(session, treatment, directory)
            rows = [
                (i, settlement.CatalogueRow(code, name, kind, level, share, cap))
                for i, (code, name, kind, level, share, cap) in enumerate(CATALOGUE, start=1)
            ]
            assert not (await settlement.import_catalogue(session, rows)).errors
            made = await settlement.add_institution(
                session,
                treatment.cipher,
                treatment.clock,
                settlement.NewInstitution(PHARMACY[0], PHARMACY[1], TREATMENT),
            )
    finally:
        await treatment.close()
    return holders, made.token


def _acct_pay(answer: dict[str, Any]) -> int:
    return parse_yuan(str(answer["output"]["setlinfo"]["acct_pay"]))


async def _rows(url: str, sql: str) -> list[Any]:
    conn = await asyncpg.connect(dsn(url), timeout=10)
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


def test_kills_on_both_sides(tmp_path: Path, pg_clusters: tuple[Cluster, Cluster]) -> None:
    a_cluster, b_cluster = pg_clusters
    with (
        fresh_database(a_cluster.admin_url) as a_url,
        fresh_database(b_cluster.admin_url) as b_url,
    ):
        asyncio.run(_scenario(a_url, b_url, a_cluster, b_cluster, tmp_path))


async def _scenario(
    a_url: str, b_url: str, a_cluster: Cluster, b_cluster: Cluster, tmp: Path
) -> None:
    a_seed = base64.b64encode(secrets.token_bytes(32)).decode()
    b_seed = base64.b64encode(secrets.token_bytes(32)).decode()
    a_port, b_port = free_port(), free_port()
    directory = directory_json(
        a_seed, b_seed, f"http://127.0.0.1:{a_port}", f"http://127.0.0.1:{b_port}"
    )
    a_settings = _settings(a_url, tmp / "a", "shenzhen", a_seed)
    b_settings = _settings(b_url, tmp / "b", "shanghai", b_seed)
    holders, token = await _build(a_settings, b_settings, directory)
    a_server = _server(a_url, tmp / "a", "shenzhen", a_seed, a_port)
    b_server = _server(b_url, tmp / "b", "shanghai", b_seed, b_port)
    a_server.start()
    b_server.start()
    http = httpx.AsyncClient(base_url=b_server.url, timeout=20)
    try:
        pharmacy = CrossInstitution(http, PHARMACY[0], PHARMACY[1], token, TREATMENT)
        await pharmacy.sign_in()
        till = Till(pharmacy)
        during_crash: dict[str, int] = {}
        restarted: dict[str, int] = {}

        async def crash(cluster: Cluster, side: str) -> None:
            # The PostgreSQL goes down under the tills, stays down a moment, recovers.
            before = len(till.messages)
            await asyncio.to_thread(cluster.crash)
            await asyncio.sleep(2)
            await asyncio.to_thread(cluster.start)  # waits until it accepts connections
            during_crash[side] = len(till.messages) - before
            restarted[side] = len(till.messages)

        async def kills() -> None:
            await asyncio.sleep(3)
            await asyncio.to_thread(a_server.kill)
            await asyncio.sleep(2)
            await asyncio.to_thread(a_server.start)
            await asyncio.sleep(3)
            await asyncio.to_thread(b_server.kill)
            await asyncio.sleep(1)
            await asyncio.to_thread(b_server.start)
            await asyncio.sleep(3)
            await crash(a_cluster, "a")
            await asyncio.sleep(3)
            await crash(b_cluster, "b")
            await asyncio.sleep(3)

        # The tills stop when the kills are done; a loaded machine starts a server slowly.
        await till.load(holders, clients=TILLS, seconds=240, during=kills, pause_after_lost=0.5)
        # The tills kept sending while each PostgreSQL was down and restarting.
        assert all(during_crash.get(side) for side in "ab"), during_crash
        messages = list(till.messages.values())
        # Both deployments settle again once B's PostgreSQL, the last one killed, is back.
        assert any(m.settled for m in messages[restarted["b"] :]), restarted
        # Sent but never answered (B died under it): the pharmacy sends it again.
        unanswered = [m for m in messages if not m.answers]
        gate = asyncio.Semaphore(TILLS)

        async def send_again(message: Message) -> None:
            async with gate:
                for _ in range(3):
                    if await till.send(message) is not None:
                        return

        await asyncio.gather(*(send_again(m) for m in unanswered))
        assert all(m.answers for m in messages)
        failures = {a["err_msg"] for m in messages for a in m.answers if a["infcode"] != 0}
        assert any("无法连接" in f for f in failures), failures  # A was down for a while
        acknowledged = [m for m in messages if m.settled is not None]
        assert len(acknowledged) > 10

        # The day's reconciliation, as `yibao crossregion reconcile` runs it at B.
        b_runtime = build_runtime(b_settings)
        b_runtime.peer_link = HttpPeerLink(
            Signer("shanghai", b_settings.peer_key_bytes()), timeout=10
        )
        try:
            today = china_today(b_runtime.clock)
            await crossregion.reconcile(b_runtime, crossregion.link_of(b_runtime), TREATMENT, today)
            again = await crossregion.reconcile(
                b_runtime, crossregion.link_of(b_runtime), TREATMENT, today
            )
            assert [d for r in again for d in r.differences] == []
            statement = await crossregion.clearing(
                b_runtime, crossregion.link_of(b_runtime), TREATMENT, HOME, today.strftime("%Y-%m")
            )
            assert statement.agrees, statement
            assert statement.here.count == len(acknowledged)
        finally:
            await b_runtime.close()
    finally:
        await http.aclose()
        b_server.stop()
        a_server.stop()

    # Nothing paid twice: one claim per message id at A, one settlement per msgid at B.
    claims = await _rows(a_url, "SELECT message_id, status, acct_pay_fen FROM crossregion_claims")
    settled_at_a = {r["message_id"]: r["acct_pay_fen"] for r in claims if r["status"] == "settled"}
    rows_b = await _rows(b_url, "SELECT msgid, acct_pay_fen, status FROM crossregion_settlements")
    assert {f"shanghai:{r['msgid']}": r["acct_pay_fen"] for r in rows_b} == settled_at_a
    by_msgid = {m.msgid: m for m in acknowledged}
    assert {r["msgid"] for r in rows_b} == set(by_msgid)
    for m in acknowledged:
        assert _acct_pay(m.settled or {}) == settled_at_a[f"shanghai:{m.msgid}"]
    # Every A balance: opening minus the acknowledged account parts.
    balances = {
        r["person_id"]: r["balance_fen"]
        for r in await _rows(a_url, "SELECT person_id, balance_fen FROM personal_accounts")
    }
    for holder in holders:
        paid = sum(_acct_pay(m.settled or {}) for m in acknowledged if m.holder == holder)
        assert balances[holder.person_id] == holder.funded_fen - paid, holder.psn_no
    ledger = await _rows(
        a_url,
        "SELECT a.person_id, sum(e.amount_fen) AS s FROM ledger_entries e"
        " JOIN personal_accounts a ON a.id = e.account_id GROUP BY a.person_id",
    )
    assert {r["person_id"]: r["s"] for r in ledger} == balances
