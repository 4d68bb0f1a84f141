"""The year end on both databases: interest at the region's rate on the year-end balance, once
(a second run credits nothing), resumed after a crash mid-batch without crediting anybody twice
or not at all; regions without a rate pay none; and a credit goes by SMS only to a person who
asked for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.crediting import REGION, Member, balances, count, province, write_file
from yibao.crediting import service as crediting
from yibao.crediting.service import year_end as year_end_service
from yibao.crediting.year_end import InvalidYearEnd, year_interest
from yibao.kernel.clock import FixedClock
from yibao.notifications import service as notifications
from yibao.runtime import Runtime

RATE = "1.5%"
RATE_BP = 150


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 12, 7, 2, 0, tzinfo=UTC))


async def _month(rt: Runtime, db: AsyncSession, path: Path, month: str) -> None:
    started = await crediting.start_run(
        db, rt.clock, month=month, source=path, region=None, by="cli:test", approved=True
    )
    await crediting.execute(db, rt.cipher, rt.clock, started.id, load_batch=3, credit_batch=3)


async def _province_with_a_year(
    rt: Runtime, db: AsyncSession, clock: FixedClock, tmp_path: Path
) -> tuple[list[Member], dict[int, int]]:
    """November credited in 2026, then the clock into January 2027 and December credited there
    (after the year end: not part of 2026's balance). Returns the year-end balances."""
    members = await province(rt, db, employees=5, retirees=2)
    await _month(rt, db, write_file(tmp_path / "november.csv", "2026-11", members), "2026-11")
    year_end = await balances(db)
    clock.advance(timedelta(days=30))  # 2027-01-06 Beijing time
    await _month(rt, db, write_file(tmp_path / "december.csv", "2026-12", members), "2026-12")
    return members, year_end


async def test_close_year_pays_interest_on_the_year_end_balance_once(
    rt: Runtime, db: AsyncSession, clock: FixedClock, tmp_path: Path
) -> None:
    members, year_end = await _province_with_a_year(rt, db, clock, tmp_path)
    await crediting.set_interest_rate(db, rt.clock, REGION, RATE, by="cli:test")
    before = await balances(db)

    started = await crediting.start_year_end(db, rt.clock, 2026, by="cli:test", approved=True)
    run = await crediting.close_year(db, rt.clock, started.id, batch=3)

    interest = {p: year_interest(b, RATE_BP) for p, b in year_end.items()}
    assert all(v > 0 for v in interest.values())
    assert run.state == "done"
    assert (run.accounts_done, run.credited_count) == (len(members), len(members))
    assert run.credited_fen == sum(interest.values())
    after = await balances(db)
    assert {p: after[p] - before[p] for p in after} == interest
    sql = "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'interest_credit'"
    assert await count(db, sql) == len(members)
    assert await count(db, "SELECT COUNT(*) FROM outbox_messages WHERE dedup_key LIKE "
                       "'credit:interest:%' AND channel = 'inapp'") == len(members)  # fmt: skip
    totals = await crediting.year_end_totals(db, run)
    assert [(t.admdvs, t.rate_bp, t.credited_fen) for t in totals] == [
        (REGION, RATE_BP, run.credited_fen)
    ]

    # A second run of the year credits nothing.
    again = await crediting.start_year_end(db, rt.clock, 2026, by="cli:test", approved=True)
    again = await crediting.close_year(db, rt.clock, again.id, batch=3)
    assert (again.credited_count, again.credited_fen, again.already_count) == (
        0,
        0,
        len(members),
    )
    assert await balances(db) == after
    assert await count(db, sql) == len(members)


async def test_a_run_that_crashed_mid_batch_carries_on_and_credits_each_account_once(
    rt: Runtime,
    db: AsyncSession,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    members, year_end = await _province_with_a_year(rt, db, clock, tmp_path)
    await crediting.set_interest_rate(db, rt.clock, REGION, "150bp", by="cli:test")
    before = await balances(db)
    started = await crediting.start_year_end(db, rt.clock, 2026, by="cli:test", approved=True)

    real = year_end_service.enqueue_notices
    calls = 0

    async def crash_in_second_batch(*args: object, **kwargs: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:  # the batch's entries are written, its commit not yet made
            raise RuntimeError("killed")
        await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(year_end_service, "enqueue_notices", crash_in_second_batch)
    with pytest.raises(RuntimeError):
        await crediting.close_year(db, rt.clock, started.id, batch=3)
    # As a new process would: the killed session is dropped, a fresh one carries the run on.
    await db.close()
    monkeypatch.setattr(year_end_service, "enqueue_notices", real)
    async with rt.sessions() as fresh:
        half = await crediting.find_year_end(fresh, started.id)
        assert (half.state, half.accounts_done, half.credited_count) == ("crediting", 3, 3)
        await fresh.commit()
        run = await crediting.close_year(fresh, rt.clock, started.id, batch=3)

    interest = {p: year_interest(b, RATE_BP) for p, b in year_end.items()}
    after = await balances(db)
    assert {p: after[p] - before[p] for p in after} == interest
    assert (run.state, run.credited_count, run.credited_fen) == (
        "done",
        len(members),
        sum(interest.values()),
    )
    sql = "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'interest_credit'"
    assert await count(db, sql) == len(members)
    assert await count(db, "SELECT COUNT(*) FROM outbox_messages WHERE dedup_key LIKE "
                       "'credit:interest:%'") == len(members)  # fmt: skip


async def test_no_rate_no_interest_and_a_year_not_over_is_refused(
    rt: Runtime, db: AsyncSession, clock: FixedClock, tmp_path: Path
) -> None:
    await _province_with_a_year(rt, db, clock, tmp_path)
    with pytest.raises(InvalidYearEnd):
        await crediting.start_year_end(db, rt.clock, 2027, by="cli:test", approved=True)
    await db.rollback()

    started = await crediting.start_year_end(db, rt.clock, 2026, by="cli:test", approved=True)
    run = await crediting.close_year(db, rt.clock, started.id)
    assert (run.state, run.accounts_done, run.credited_count) == ("done", 0, 0)
    assert (
        await count(db, "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'interest_credit'") == 0
    )


async def test_a_credit_goes_by_sms_only_to_whoever_asked_for_it(
    rt: Runtime, db: AsyncSession, tmp_path: Path
) -> None:
    members = await province(rt, db, employees=3, retirees=1)
    wants = members[1]
    assert await notifications.credit_sms_wanted(db, wants.person_id) is False
    await notifications.set_credit_sms(db, rt.clock, wants.person_id, True)
    await notifications.set_credit_sms(db, rt.clock, members[2].person_id, True)
    await notifications.set_credit_sms(db, rt.clock, members[2].person_id, False)
    assert await notifications.credit_sms_wanted(db, wants.person_id) is True

    await _month(rt, db, write_file(tmp_path / "november.csv", "2026-11", members), "2026-11")

    assert await count(db, "SELECT COUNT(*) FROM outbox_messages WHERE channel = 'inapp'") == 4
    sms = "SELECT COUNT(*) FROM outbox_messages WHERE channel = 'sms' AND person_id = {}"
    assert await count(db, sms.format(wants.person_id)) == 1
    assert await count(db, "SELECT COUNT(*) FROM outbox_messages WHERE channel = 'sms'") == 1
