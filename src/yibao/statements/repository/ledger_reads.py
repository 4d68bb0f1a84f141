"""Reads behind the statement, the detail page and the family pages, through SQLAlchemy."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment.tables import Person
from yibao.settlement.tables import Settlement, SettlementItem, SettlementShare


async def person_names(session: AsyncSession, person_ids: set[int]) -> dict[int, str]:
    if not person_ids:
        return {}
    stmt = select(Person.id, Person.name).where(Person.id.in_(person_ids))
    return {row.id: row.name for row in await session.execute(stmt)}


async def settlements_by_setl_id(
    session: AsyncSession, setl_ids: set[str]
) -> dict[str, Settlement]:
    if not setl_ids:
        return {}
    stmt = select(Settlement).where(Settlement.setl_id.in_(setl_ids))
    return {row.setl_id: row for row in (await session.execute(stmt)).scalars()}


async def settlement_of_person(
    session: AsyncSession, setl_id: str, person_id: int
) -> Settlement | None:
    stmt = select(Settlement).where(
        Settlement.setl_id == setl_id, Settlement.person_id == person_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def settlement_by_setl_id(session: AsyncSession, setl_id: str) -> Settlement | None:
    found = await settlements_by_setl_id(session, {setl_id})
    return found.get(setl_id)


async def settlement_items_of(session: AsyncSession, settlement_pk: int) -> list[SettlementItem]:
    stmt = (
        select(SettlementItem)
        .where(SettlementItem.settlement_id == settlement_pk)
        .order_by(SettlementItem.feedetl_sn, SettlementItem.id)
    )
    return list((await session.execute(stmt)).scalars())


async def settlement_shares_of(session: AsyncSession, settlement_pk: int) -> list[SettlementShare]:
    stmt = (
        select(SettlementShare)
        .where(SettlementShare.settlement_id == settlement_pk)
        .order_by(SettlementShare.id)
    )
    return list((await session.execute(stmt)).scalars())
