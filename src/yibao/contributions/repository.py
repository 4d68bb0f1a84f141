"""Queries on contribution records. Never commits."""

from __future__ import annotations

from sqlalchemy import select
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
