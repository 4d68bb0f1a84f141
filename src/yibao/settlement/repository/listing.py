"""The 医保目录 as pages for institutions (1312, 1318, 1319): the same rows settlement applies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.settlement.tables import CatalogueEntry


@dataclass(frozen=True, slots=True)
class CatalogueQuery:
    code: str | None = None
    name: str | None = None  # part of the name
    list_type: str | None = None  # drug | service | consumable
    chrgitm_lv: str | None = None
    on_date: date | None = None
    valid: bool | None = None  # on `today`: True valid, False ended
    today: date | None = None
    updated_since: datetime | None = None
    with_price_cap: bool = False
    with_selfpay: bool = False


async def catalogue_page(
    session: AsyncSession, query: CatalogueQuery, offset: int, limit: int
) -> tuple[int, list[CatalogueEntry]]:
    table = CatalogueEntry
    stmt = select(table)
    if query.code:
        stmt = stmt.where(table.med_list_codg == query.code)
    if query.name:
        stmt = stmt.where(table.name.contains(query.name, autoescape=True))
    if query.list_type:
        stmt = stmt.where(table.list_type == query.list_type)
    if query.chrgitm_lv:
        stmt = stmt.where(table.chrgitm_lv == query.chrgitm_lv)
    if query.on_date:
        stmt = stmt.where(
            table.begin_date <= query.on_date,
            or_(table.end_date.is_(None), table.end_date >= query.on_date),
        )
    if query.valid is not None and query.today is not None:
        ended = table.end_date < query.today
        stmt = stmt.where(~ended | table.end_date.is_(None) if query.valid else ended)
    if query.updated_since:
        stmt = stmt.where(table.updated_at >= query.updated_since)
    if query.with_price_cap:
        stmt = stmt.where(table.price_cap_fen.is_not(None))
    if query.with_selfpay:
        stmt = stmt.where(table.selfpay_bp.is_not(None))
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = await session.execute(
        stmt.order_by(table.med_list_codg, table.begin_date).offset(offset).limit(limit)
    )
    return int(total), list(rows.scalars())
