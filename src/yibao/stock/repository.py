"""Queries of 进销存. Never commits: the calling use case does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.stock.tables import StockItem, StockMovement, StockTraceCode


async def item(
    session: AsyncSession, fixmedins_code: str, hilist_id: str, *, lock: bool = False
) -> StockItem | None:
    stmt = select(StockItem).where(
        StockItem.fixmedins_code == fixmedins_code, StockItem.fixmedins_hilist_id == hilist_id
    )
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def item_by_id(session: AsyncSession, item_id: int, *, lock: bool = False) -> StockItem:
    stmt = select(StockItem).where(StockItem.id == item_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one()


async def live_movements(
    session: AsyncSession,
    fixmedins_code: str,
    *,
    kinds: Sequence[str],
    bchno: str | None = None,
    msgid: str | None = None,
) -> list[StockMovement]:
    """Movements not undone yet, by batch number or by message, oldest first."""
    stmt = select(StockMovement).where(
        StockMovement.fixmedins_code == fixmedins_code,
        StockMovement.kind.in_(kinds),
        StockMovement.undone_at.is_(None),
    )
    if bchno is not None:
        stmt = stmt.where(StockMovement.fixmedins_bchno == bchno)
    if msgid is not None:
        stmt = stmt.where(StockMovement.msgid == msgid)
    return list((await session.execute(stmt.order_by(StockMovement.id))).scalars())


async def trace_codes(session: AsyncSession, movement_ids: list[int]) -> dict[int, list[str]]:
    if not movement_ids:
        return {}
    stmt = (
        select(StockTraceCode.movement_id, StockTraceCode.drug_trac_codg)
        .where(StockTraceCode.movement_id.in_(movement_ids))
        .order_by(StockTraceCode.id)
    )
    found: dict[int, list[str]] = {}
    for movement_id, code in (await session.execute(stmt)).all():
        found.setdefault(movement_id, []).append(code)
    return found


@dataclass(frozen=True, slots=True)
class StockQuery:
    fixmedins_code: str
    hilist_id: str | None = None
    med_list_codg: str | None = None
    kinds: tuple[str, ...] = ()
    setl_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def items_page(
    session: AsyncSession, query: StockQuery, offset: int, limit: int
) -> tuple[int, list[StockItem]]:
    stmt = select(StockItem).where(StockItem.fixmedins_code == query.fixmedins_code)
    if query.hilist_id:
        stmt = stmt.where(StockItem.fixmedins_hilist_id == query.hilist_id)
    if query.med_list_codg:
        stmt = stmt.where(StockItem.med_list_codg == query.med_list_codg)
    total = (
        await session.execute(select(func.count()).select_from(stmt.order_by(None).subquery()))
    ).scalar_one()
    rows = (
        await session.execute(stmt.order_by(StockItem.id).offset(offset).limit(limit))
    ).scalars()
    return total, list(rows)


async def movements_page(
    session: AsyncSession, query: StockQuery, offset: int, limit: int
) -> tuple[int, list[tuple[StockMovement, StockItem]]]:
    stmt = (
        select(StockMovement, StockItem)
        .join(StockItem, StockItem.id == StockMovement.item_id)
        .where(
            StockMovement.fixmedins_code == query.fixmedins_code,
            StockMovement.kind.in_(query.kinds),
        )
    )
    if query.hilist_id:
        stmt = stmt.where(StockItem.fixmedins_hilist_id == query.hilist_id)
    if query.med_list_codg:
        stmt = stmt.where(StockItem.med_list_codg == query.med_list_codg)
    if query.setl_id:
        stmt = stmt.where(StockMovement.setl_id == query.setl_id)
    if query.since:
        stmt = stmt.where(StockMovement.created_at >= query.since)
    if query.until:
        stmt = stmt.where(StockMovement.created_at < query.until)
    total = (
        await session.execute(select(func.count()).select_from(stmt.order_by(None).subquery()))
    ).scalar_one()
    rows = (
        await session.execute(stmt.order_by(StockMovement.id).offset(offset).limit(limit))
    ).all()
    return total, [(movement, item) for movement, item in rows]
