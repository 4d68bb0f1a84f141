"""A crediting run killed for real (SIGKILL to the `yibao crediting run` process) while it loads
the file or while it credits, then started again with the same command: every account ends up
credited exactly once, checked against the sum of the file and the retirees' fixed amount; and
on PostgreSQL, a run whose database connection is cut mid-way carries on the same way."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import world
from tests.support.crediting import (
    RATE_BP,
    RETIREE_FEN,
    balances,
    count,
    entry_sums,
    many_retirees,
    province,
    write_file,
)
from yibao.config import Settings
from yibao.kernel.money import apply_rate_bp, parse_yuan
from yibao.runtime import Runtime

MONTH = "2026-11"
# Loading is the shortest phase: on SQLite 400 extra lines loaded in well under a second, and
# 1 run in 3 finished loading before the poller saw it (a missed kill, not a crediting fault).
STRANGERS = {"loading": 4000, "crediting": 400, "connection": 400}
RETIREES = (
    4000  # enough accounts that the batched crediting is still running when the poller kills it
)
COMMAND = "from yibao.cli.main import main; main()"


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIBAO_")}
    env.update(
        YIBAO_DATABASE_URL=settings.database_url,
        YIBAO_DATA_KEY=settings.data_key,
        YIBAO_SECRET_KEY=settings.secret_key,
        YIBAO_ENVIRONMENT="test",
        YIBAO_VAR_DIR=str(settings.var_dir),
        YIBAO_LOG_LEVEL="warning",
    )
    return env


def _argv(path: Path, batch: int = 4) -> list[str]:
    # A few accounts per commit and a few lines per load: many points to be killed at.
    return [sys.executable, "-c", COMMAND, "crediting", "run", "--month", MONTH, "--file",
            str(path), "--batch", str(batch), "--load-batch", str(batch * 2), "--json"]  # fmt: skip


def _start(path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        _argv(path), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _to_the_end(
    path: Path, env: dict[str, str], batch: int = 4
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        _argv(path, batch), env=env, capture_output=True, timeout=180, check=False
    )


async def _state(db: AsyncSession) -> tuple[str, int] | None:
    for _ in range(50):
        try:
            row = (await db.execute(text("SELECT state, lines_done FROM crediting_runs"))).first()
            await db.rollback()
            return None if row is None else (str(row[0]), int(row[1]))
        except Exception:  # noqa: BLE001 - SQLite busy while the run writes: ask again
            await db.rollback()
            await asyncio.sleep(0.05)
    raise AssertionError("the run's row could not be read")


async def _kill_when(db: AsyncSession, process: subprocess.Popen[bytes], state: str) -> None:
    await _when(db, process, state)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=15)


async def _end_connections_since(url: str, started: datetime) -> None:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        ended = await conn.fetchval(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_start >= $1",
            started,
        )
    finally:
        await conn.close()
    assert ended >= 1


async def _when(db: AsyncSession, process: subprocess.Popen[bytes], state: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = await _state(db)
        if found is not None and found[0] == state and found[1] > 0:
            return
        if process.poll() is not None:
            raise AssertionError(f"the run ended before it could be killed: {found}")
        await asyncio.sleep(0.01)
    process.kill()
    raise AssertionError("the run never reached " + state)


@pytest.mark.parametrize("phase", ["loading", "crediting", "connection"])
async def test_a_run_killed_mid_way_and_started_again_credits_everyone_exactly_once(
    rt: Runtime, db: AsyncSession, settings: Settings, tmp_path: Path, phase: str
) -> None:
    members = await province(rt, db, employees=30, retirees=5)
    members += await many_retirees(db, RETIREES)
    # Strangers' lines (refused: not enrolled) make the file long enough to be killed mid-load.
    strangers = "".join(
        f"{world.new_id_number(birth=date(1991, 1 + n % 12, 1 + n % 28))},{MONTH},5000.00,400.00,100.00\n"
        for n in range(STRANGERS[phase])
    )
    path = write_file(tmp_path / "month.csv", MONTH, members, extra=strangers)
    env = _env(settings)

    if phase == "connection" and "postgresql" not in settings.database_url:
        pytest.skip("a database server to lose the connection to: SQLite is a file")
    started = datetime.now(UTC)
    process = _start(path, env)
    if phase == "connection":
        # The database goes away under the run (its connections ended, as a restart of
        # PostgreSQL does): the run stops with an error, and is started again.
        await _when(db, process, "crediting")
        await _end_connections_since(settings.database_url, started)
        process.wait(timeout=60)
        assert process.returncode not in (0, None)
    else:
        await _kill_when(db, process, phase)
        assert process.returncode == -signal.SIGKILL
    killed_at = await count(db, "SELECT COUNT(*) FROM ledger_entries")
    assert killed_at < len(members), "the run had finished before the kill"

    again = _to_the_end(path, env)
    assert again.returncode == 0, again.stderr.decode()[-2000:]

    expected = {m.person_id: m.credit_fen for m in members}
    assert await balances(db) == expected
    assert await entry_sums(db) == expected
    # Against the file itself: 2% of each enrolled line's base, plus each retiree's fixed amount.
    enrolled = {m.id_number for m in members if not m.retired}
    from_file = sum(
        apply_rate_bp(parse_yuan(fields[2]), RATE_BP)
        for fields in (line.split(",") for line in path.read_text().splitlines()[1:])
        if fields[0] in enrolled
    )
    retirees = sum(1 for m in members if m.retired)
    assert sum((await balances(db)).values()) == from_file + retirees * RETIREE_FEN
    assert await count(db, "SELECT COUNT(*) FROM ledger_entries") == len(members)
    assert await count(db, "SELECT COUNT(*) FROM contributions") == len(members)
    assert await count(db, "SELECT COUNT(*) FROM outbox_messages") == len(members)
    assert (
        await count(db, "SELECT COUNT(*) FROM crediting_lines") == len(members) + STRANGERS[phase]
    )
    assert (
        await count(db, "SELECT COUNT(*) FROM crediting_lines WHERE refusal = 'not_enrolled'")
        == STRANGERS[phase]
    )
    assert await count(db, "SELECT COUNT(*) FROM crediting_runs WHERE state = 'done'") == 1

    # And once more: the month is credited, nothing moves.
    third = _to_the_end(path, env, batch=500)
    assert third.returncode == 0, third.stderr.decode()[-2000:]
    assert await balances(db) == expected
    assert await count(db, "SELECT COUNT(*) FROM ledger_entries") == len(members)
