"""Queries on contribution records. Never commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.contributions.tables import Contribution


async def for_person_month(
    session: AsyncSession, person_id: int, month: str
) -> Contribution | None:
    stmt = select(Contribution).where(
        Contribution.person_id == person_id, Contribution.month == month
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def for_person(
    session: AsyncSession, person_id: int, *, since: str | None = None, until: str | None = None
) -> list[Contribution]:
    """Newest month first; `since`/`until` are inclusive YYYY-MM bounds."""
    stmt = select(Contribution).where(Contribution.person_id == person_id)
    if since:
        stmt = stmt.where(Contribution.month >= since)
    if until:
        stmt = stmt.where(Contribution.month <= until)
    return list((await session.execute(stmt.order_by(Contribution.month.desc()))).scalars())


async def for_persons_months(
    session: AsyncSession, person_ids: Sequence[int], months: Sequence[str]
) -> list[Contribution]:
    """The records of these persons in these months (an import's look-up of what is there)."""
    stmt = select(Contribution).where(
        Contribution.person_id.in_(list(person_ids)), Contribution.month.in_(list(months))
    )
    return list((await session.execute(stmt)).scalars())


_WRITTEN = (
    "person_id",
    "month",
    "base_fen",
    "employer_fen",
    "personal_fen",
    "credited_fen",
    "arrived_on",
    "status",
    "ledger_entry_id",
    "created_at",
)


async def add_many(session: AsyncSession, records: Sequence[Contribution]) -> None:
    """New records in one multi-row insert (an import writes thousands); the objects given stay
    outside the session, without ids."""
    if records:
        rows = [{name: getattr(r, name) for name in _WRITTEN} for r in records]
        await session.execute(insert(Contribution), rows)
