"""Reads behind the statement, the detail page and the family pages, through SQLAlchemy."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment.tables import Person
from yibao.settlement.tables import Settlement, SettlementItem, SettlementShare

settlements = Settlement.__table__
settlement_items = SettlementItem.__table__
settlement_shares = SettlementShare.__table__


async def person_names(session: AsyncSession, person_ids: set[int]) -> dict[int, str]:
    if not person_ids:
        return {}
    stmt = select(Person.id, Person.name).where(Person.id.in_(person_ids))
    return {row.id: row.name for row in await session.execute(stmt)}


async def settlements_by_setl_id(
    session: AsyncSession, setl_ids: set[str]
) -> dict[str, dict[str, Any]]:
    if not setl_ids:
        return {}
    stmt = select(settlements).where(settlements.c.setl_id.in_(setl_ids))
    return {row.setl_id: dict(row._mapping) for row in await session.execute(stmt)}


async def settlement_of_person(
    session: AsyncSession, setl_id: str, person_id: int
) -> dict[str, Any] | None:
    stmt = select(settlements).where(
        settlements.c.setl_id == setl_id, settlements.c.person_id == person_id
    )
    row = (await session.execute(stmt)).first()
    return dict(row._mapping) if row is not None else None


async def settlement_by_setl_id(session: AsyncSession, setl_id: str) -> dict[str, Any] | None:
    found = await settlements_by_setl_id(session, {setl_id})
    return found.get(setl_id)


async def settlement_items_of(session: AsyncSession, settlement_pk: int) -> list[dict[str, Any]]:
    stmt = (
        select(settlement_items)
        .where(settlement_items.c.settlement_id == settlement_pk)
        .order_by(settlement_items.c.feedetl_sn, settlement_items.c.id)
    )
    return [dict(row._mapping) for row in await session.execute(stmt)]


async def settlement_shares_of(session: AsyncSession, settlement_pk: int) -> list[dict[str, Any]]:
    stmt = (
        select(settlement_shares)
        .where(settlement_shares.c.settlement_id == settlement_pk)
        .order_by(settlement_shares.c.id)
    )
    return [dict(row._mapping) for row in await session.execute(stmt)]
