"""Queries behind the person's pages. Read only: never writes, never commits.

Every query is keyed by one account (or one person), so it stays on the
`ix_ledger_entries_account_created` index and never scans across people.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment.tables import Person
from yibao.ledger.tables import LedgerEntry
from yibao.settlement.tables import Settlement, SettlementItem, SettlementShare
from yibao.statements.domain import LEDGER_KINDS, ConsumptionFilter, ConsumptionKind, Cursor, Scope

settlements = Settlement.__table__
settlement_items = SettlementItem.__table__
settlement_shares = SettlementShare.__table__

_DEBIT_KINDS = ("settlement_debit", "mutual_aid_debit", "relative_contribution_debit")


def _is_consumption() -> ColumnElement[bool]:
    # A reversal with a positive amount gave back money a debit took: it belongs with 消费记录.
    return or_(
        LedgerEntry.kind.in_(_DEBIT_KINDS),
        and_(LedgerEntry.kind == "reversal", LedgerEntry.amount_fen > 0),
    )


def _filter_conditions(
    person_id: int, wanted: ConsumptionFilter | None
) -> list[ColumnElement[bool]]:
    conditions = [_is_consumption()]
    if wanted is None:
        return conditions
    conditions.append(LedgerEntry.created_at >= wanted.days.start_utc())
    conditions.append(LedgerEntry.created_at < wanted.days.end_utc())
    if wanted.kind is not None:
        conditions.append(LedgerEntry.kind == LEDGER_KINDS[wanted.kind])
        if wanted.kind == ConsumptionKind.REFUND:
            conditions.append(LedgerEntry.amount_fen > 0)
    if wanted.institution:
        conditions.append(
            or_(
                LedgerEntry.counterparty_code == wanted.institution.upper(),
                LedgerEntry.counterparty.contains(wanted.institution, autoescape=True),
            )
        )
    own = or_(
        LedgerEntry.beneficiary_person_id.is_(None),
        LedgerEntry.beneficiary_person_id == person_id,
    )
    if wanted.scope == Scope.SELF:
        conditions.append(own)
    elif wanted.scope == Scope.FAMILY:
        conditions.append(~own)
    return conditions


def consumption_page_query(
    account_id: int,
    person_id: int,
    wanted: ConsumptionFilter,
    *,
    after: Cursor | None,
    limit: int,
) -> Select[LedgerEntry]:
    """Newest first, one more row than `limit` (so the caller knows a next page exists)."""
    stmt = select(LedgerEntry).where(
        LedgerEntry.account_id == account_id, *_filter_conditions(person_id, wanted)
    )
    if after is not None:
        # The plain `<=` bound lets the index range start at the cursor (an OR alone would only
        # filter rows after scanning them); the OR then breaks ties on the same instant by id.
        stmt = stmt.where(
            LedgerEntry.created_at <= after.created_at,
            or_(
                LedgerEntry.created_at < after.created_at,
                and_(LedgerEntry.created_at == after.created_at, LedgerEntry.id < after.entry_id),
            ),
        )
    return stmt.order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc()).limit(limit + 1)


async def consumption_page(
    session: AsyncSession,
    account_id: int,
    person_id: int,
    wanted: ConsumptionFilter,
    *,
    after: Cursor | None,
    limit: int,
) -> list[LedgerEntry]:
    stmt = consumption_page_query(account_id, person_id, wanted, after=after, limit=limit)
    return list((await session.execute(stmt)).scalars())


async def consumption_count(
    session: AsyncSession, account_id: int, person_id: int, wanted: ConsumptionFilter | None
) -> int:
    stmt = select(func.count()).where(
        LedgerEntry.account_id == account_id, *_filter_conditions(person_id, wanted)
    )
    return int((await session.execute(stmt)).scalar_one())


async def totals_between(
    session: AsyncSession, account_id: int, start: datetime, end: datetime
) -> tuple[int, int]:
    """(credited, spent) in fen between two instants; reversals net against what they undo."""
    credited = case(
        (LedgerEntry.kind == "contribution_credit", LedgerEntry.amount_fen),
        (and_(LedgerEntry.kind == "reversal", LedgerEntry.amount_fen < 0), LedgerEntry.amount_fen),
        else_=0,
    )
    spent = case(
        (LedgerEntry.kind.in_(_DEBIT_KINDS), -LedgerEntry.amount_fen),
        (and_(LedgerEntry.kind == "reversal", LedgerEntry.amount_fen > 0), -LedgerEntry.amount_fen),
        else_=0,
    )
    stmt = select(func.coalesce(func.sum(credited), 0), func.coalesce(func.sum(spent), 0)).where(
        LedgerEntry.account_id == account_id,
        LedgerEntry.created_at >= start,
        LedgerEntry.created_at < end,
    )
    row = (await session.execute(stmt)).one()
    return int(row[0]), int(row[1])


async def spending_by_bounds(
    session: AsyncSession, account_id: int, bounds: Sequence[datetime]
) -> list[int]:
    """Net spending in each [bounds[i], bounds[i+1]) in one pass over the account's index range."""
    net = case(
        (LedgerEntry.kind.in_(_DEBIT_KINDS), -LedgerEntry.amount_fen),
        (and_(LedgerEntry.kind == "reversal", LedgerEntry.amount_fen > 0), -LedgerEntry.amount_fen),
        else_=0,
    )
    columns: list[Any] = [
        func.coalesce(
            func.sum(
                case(
                    (
                        and_(LedgerEntry.created_at >= low, LedgerEntry.created_at < high),
                        net,
                    ),
                    else_=0,
                )
            ),
            0,
        )
        for low, high in itertools.pairwise(bounds)
    ]
    stmt = select(*columns).where(
        LedgerEntry.account_id == account_id,
        LedgerEntry.created_at >= bounds[0],
        LedgerEntry.created_at < bounds[-1],
    )
    row = (await session.execute(stmt)).one()
    return [int(value) for value in row]


async def latest_entry_at(session: AsyncSession, account_id: int) -> datetime | None:
    stmt = (
        select(LedgerEntry.created_at)
        .where(LedgerEntry.account_id == account_id)
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def balance_before(session: AsyncSession, account_id: int, at: datetime) -> int:
    stmt = (
        select(LedgerEntry.balance_after_fen)
        .where(LedgerEntry.account_id == account_id, LedgerEntry.created_at < at)
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
        .limit(1)
    )
    found = (await session.execute(stmt)).scalar_one_or_none()
    return int(found) if found is not None else 0


async def entries_between(
    session: AsyncSession, account_id: int, start: datetime, end: datetime
) -> list[LedgerEntry]:
    """Oldest first, as a statement lists them."""
    stmt = (
        select(LedgerEntry)
        .where(
            LedgerEntry.account_id == account_id,
            LedgerEntry.created_at >= start,
            LedgerEntry.created_at < end,
        )
        .order_by(LedgerEntry.created_at, LedgerEntry.id)
    )
    return list((await session.execute(stmt)).scalars())


async def entries_for_source(
    session: AsyncSession, account_id: int, source_id: str
) -> list[LedgerEntry]:
    stmt = (
        select(LedgerEntry)
        .where(
            LedgerEntry.account_id == account_id,
            LedgerEntry.source_type == "settlement",
            LedgerEntry.source_id == source_id,
        )
        .order_by(LedgerEntry.created_at, LedgerEntry.id)
    )
    return list((await session.execute(stmt)).scalars())


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
