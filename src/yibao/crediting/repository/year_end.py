"""Queries of year-end runs (年度结转): rates, the run and its cursor, its totals. Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.crediting.tables import InterestRate, YearEndRun, YearEndTotal
from yibao.ledger.repository.reads import RegionAccount, employee_accounts_in_regions


async def rates(session: AsyncSession) -> list[InterestRate]:
    stmt = select(InterestRate).order_by(InterestRate.admdvs)
    return list((await session.execute(stmt)).scalars())


async def set_rate(
    session: AsyncSession, admdvs: str, rate_bp: int | None, by: str, now: datetime
) -> None:
    found = await session.get(InterestRate, admdvs, with_for_update=True)
    if rate_bp is None:
        if found is not None:
            await session.delete(found)
    elif found is None:
        session.add(InterestRate(admdvs=admdvs, rate_bp=rate_bp, set_by=by, updated_at=now))
    else:
        found.rate_bp, found.set_by, found.updated_at = rate_bp, by, now
    await session.flush()


async def run(session: AsyncSession, run_id: int, *, lock: bool = False) -> YearEndRun | None:
    stmt = select(YearEndRun).where(YearEndRun.id == run_id)
    if lock:
        stmt = stmt.with_for_update()
    return (
        await session.execute(stmt.execution_options(populate_existing=True))
    ).scalar_one_or_none()


async def open_run(session: AsyncSession) -> YearEndRun | None:
    stmt = select(YearEndRun).where(YearEndRun.state == "crediting")
    return (await session.execute(stmt)).scalars().first()


async def recent_runs(session: AsyncSession, limit: int = 10) -> list[YearEndRun]:
    stmt = select(YearEndRun).order_by(YearEndRun.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def add_totals(session: AsyncSession, run_id: int, rates: dict[str, int]) -> None:
    session.add_all(
        YearEndTotal(
            run_id=run_id, admdvs=a, rate_bp=r, accounts=0, credited_count=0, credited_fen=0
        )
        for a, r in sorted(rates.items())
    )
    await session.flush()


async def totals(session: AsyncSession, run_id: int) -> list[YearEndTotal]:
    stmt = select(YearEndTotal).where(YearEndTotal.run_id == run_id).order_by(YearEndTotal.admdvs)
    return list((await session.execute(stmt)).scalars())


async def move_totals(
    session: AsyncSession, run_id: int, moved: dict[str, tuple[int, int, int]]
) -> None:
    """Add (accounts, credited, fen) to each region's totals, in the batch's transaction."""
    for admdvs, (accounts, count, fen) in sorted(moved.items()):
        await session.execute(
            update(YearEndTotal)
            .where(YearEndTotal.run_id == run_id, YearEndTotal.admdvs == admdvs)
            .values(
                accounts=YearEndTotal.accounts + accounts,
                credited_count=YearEndTotal.credited_count + count,
                credited_fen=YearEndTotal.credited_fen + fen,
            )
        )


# The accounts a year end rates are the ledger's to read (rule 12: only ledger imports its tables).
RatedAccount = RegionAccount
next_accounts = employee_accounts_in_regions
