"""A year end killed for real (SIGKILL to `yibao crediting close-year`) mid-way, then started
again with the same command: every account ends up with its year's interest exactly once,
checked against the balances at the end of the year."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import world
from tests.support.crediting import REGION, balances, count, many_retirees
from yibao.config import Settings
from yibao.crediting import service as crediting
from yibao.crediting.year_end import year_interest
from yibao.ledger import bulk as ledger_bulk
from yibao.ledger.domain import EntryKind
from yibao.ledger.repository import Posting
from yibao.runtime import Runtime

ACCOUNTS = 1200
COMMAND = "from yibao.cli.main import main; main()"
ARGV = [sys.executable, "-c", COMMAND, "crediting", "close-year", "2025", "--batch", "1", "--json"]


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


def _start(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        ARGV, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _to_the_end(env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        ARGV, env=env, capture_output=True, timeout=180, check=False
    )


async def _done_so_far(db: AsyncSession) -> tuple[str, int] | None:
    for _ in range(50):
        try:
            row = (
                await db.execute(text("SELECT state, accounts_done FROM crediting_year_ends"))
            ).first()
            await db.rollback()
            return None if row is None else (str(row[0]), int(row[1]))
        except Exception:  # noqa: BLE001 - SQLite busy while the run writes: ask again
            await db.rollback()
            await asyncio.sleep(0.05)
    raise AssertionError("the run's row could not be read")


async def test_a_year_end_killed_mid_way_and_started_again_pays_each_account_once(
    rt: Runtime, db: AsyncSession, settings: Settings
) -> None:
    await world.define_regions(db)
    members = await many_retirees(db, ACCOUNTS)
    # A balance made during 2025 (through the ledger's own bulk posting, dated in June 2025).
    accounts = {
        r[0]: r[1]
        for r in (await db.execute(text("SELECT person_id, id FROM personal_accounts"))).all()
    }
    postings = [
        ledger_bulk.AccountPosting(
            accounts[m.person_id],
            Posting(
                kind=EntryKind.CONTRIBUTION_CREDIT,
                amount_fen=10_000 + (m.person_id * 7919) % 500_000,
                idempotency_key=f"contribution:{m.person_id}:2025-06",
                counterparty="个人缴费划入",
            ),
        )
        for m in members
    ]
    await ledger_bulk.post_many(db, postings, datetime(2025, 6, 1, 2, 0, tzinfo=UTC))
    await db.commit()
    year_end = await balances(db)
    await crediting.set_interest_rate(db, rt.clock, REGION, "1.5%", by="cli:test")

    env = _env(settings)
    process = _start(env)
    deadline = time.monotonic() + 60
    while True:
        found = await _done_so_far(db)
        if found is not None and found[0] == "crediting" and found[1] > 0:
            break
        assert process.poll() is None, f"the run ended before it could be killed: {found}"
        assert time.monotonic() < deadline, "the run never started crediting"
        await asyncio.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=15)
    killed_at = await count(
        db, "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'interest_credit'"
    )
    assert 0 < killed_at < ACCOUNTS, killed_at

    again = _to_the_end(env)
    assert again.returncode == 0, again.stderr.decode()[-2000:]

    after = await balances(db)
    assert {p: after[p] - year_end[p] for p in after} == {
        p: year_interest(b, 150) for p, b in year_end.items()
    }
    assert await count(
        db, "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'interest_credit'"
    ) == (ACCOUNTS)
    assert await count(db, "SELECT COUNT(DISTINCT idempotency_key) FROM ledger_entries"
                       " WHERE kind = 'interest_credit'") == ACCOUNTS  # fmt: skip
    assert await count(db, "SELECT COUNT(*) FROM outbox_messages") == ACCOUNTS
    assert await count(db, "SELECT COUNT(*) FROM crediting_year_ends") == 1
