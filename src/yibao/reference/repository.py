"""Queries of reference data. Never commits: the calling use case does.

Every read is keyed by the kind (and the institution for 1317), so a download or a page reads
one index range: `(kind, ver)` for downloads, `(kind, code)` or `(kind, group_code)` for pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.reference.domain import Page
from yibao.reference.tables import InstitutionListMapping, ReferenceRecord

T = TypeVar("T")
# Core statements for imports: a national catalogue is written in batches, not as ORM objects.
RECORDS = cast(Table, ReferenceRecord.__table__)


async def last_version(session: AsyncSession) -> int:
    records = (await session.execute(select(func.max(ReferenceRecord.ver)))).scalar_one()
    mappings = (await session.execute(select(func.max(InstitutionListMapping.ver)))).scalar_one()
    return max(records or 0, mappings or 0)


async def record_digests(
    session: AsyncSession, kind: str
) -> dict[str, tuple[int, str, str | None]]:
    """Each record of a kind by key: (id, fields, lookup_hash), what an import compares."""
    table = ReferenceRecord
    stmt = select(table.record_key, table.id, table.fields, table.lookup_hash).where(
        table.kind == kind
    )
    rows = await session.execute(stmt)
    return {key: (row_id, fields, lookup) for key, row_id, fields, lookup in rows}


async def insert_records(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    await session.execute(insert(RECORDS), rows)


async def update_records(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """`rows` carry `row_id` and every column to set (one executemany UPDATE)."""
    table = RECORDS
    columns = [name for name in rows[0] if name != "row_id"]
    stmt = (
        update(table)
        .where(table.c.id == bindparam("b_row_id"))
        .values({name: bindparam(f"b_{name}") for name in columns})
    )
    await session.execute(stmt, [{f"b_{k}": v for k, v in row.items()} for row in rows])


async def mappings_of(
    session: AsyncSession, codes: set[str]
) -> dict[tuple[str, str, date], InstitutionListMapping]:
    if not codes:
        return {}
    stmt = select(InstitutionListMapping).where(InstitutionListMapping.fixmedins_code.in_(codes))
    return {
        (row.fixmedins_code, row.medins_list_codg, row.begndate): row
        for row in (await session.execute(stmt)).scalars()
    }


async def newer_summary(session: AsyncSession, kind: str, ver: int) -> tuple[int, int | None]:
    """How many records of a kind are newer than `ver`, and the newest version among them."""
    stmt = select(func.count(ReferenceRecord.id), func.max(ReferenceRecord.ver)).where(
        ReferenceRecord.kind == kind, ReferenceRecord.ver > ver
    )
    count, newest = (await session.execute(stmt)).one()
    return int(count), newest


async def newer_than(session: AsyncSession, kind: str, ver: int) -> list[ReferenceRecord]:
    stmt = (
        select(ReferenceRecord)
        .where(ReferenceRecord.kind == kind, ReferenceRecord.ver > ver)
        .order_by(ReferenceRecord.ver, ReferenceRecord.id)
    )
    return list((await session.execute(stmt)).scalars())


@dataclass(frozen=True, slots=True)
class RecordQuery:
    kind: str
    code: str | None = None
    name: str | None = None  # part of the name
    group: str | None = None
    parent: str | None = None
    vali_flag: str | None = None
    updated_since: datetime | None = None
    on_date: date | None = None  # valid on that day (begndate ≤ day ≤ enddate)
    lookup_hash: str | None = None


def _valid_on(begin: Any, end: Any, day: date) -> ColumnElement[bool]:
    return and_(or_(begin.is_(None), begin <= day), or_(end.is_(None), end >= day))


async def _page(
    session: AsyncSession, stmt: Select[T], order: list[Any], page: Page
) -> tuple[int, list[T]]:
    total = (
        await session.execute(select(func.count()).select_from(stmt.order_by(None).subquery()))
    ).scalar_one()
    rows = (
        await session.execute(stmt.order_by(*order).offset(page.offset).limit(page.size))
    ).scalars()
    return int(total), list(rows)


async def record_page(
    session: AsyncSession, query: RecordQuery, page: Page
) -> tuple[int, list[ReferenceRecord]]:
    table = ReferenceRecord
    stmt = select(table).where(table.kind == query.kind)
    if query.code:
        stmt = stmt.where(table.code == query.code)
    if query.name:
        stmt = stmt.where(table.name.contains(query.name, autoescape=True))
    if query.group:
        stmt = stmt.where(table.group_code == query.group)
    if query.parent is not None:
        stmt = stmt.where(table.parent_code == (query.parent or None))
    if query.vali_flag:
        stmt = stmt.where(table.vali_flag == query.vali_flag)
    if query.updated_since:
        stmt = stmt.where(table.updated_at >= query.updated_since)
    if query.on_date:
        stmt = stmt.where(_valid_on(table.begndate, table.enddate, query.on_date))
    if query.lookup_hash:
        stmt = stmt.where(table.lookup_hash == query.lookup_hash)
    return await _page(session, stmt, [table.code, table.id], page)


@dataclass(frozen=True, slots=True)
class MappingQuery:
    fixmedins_code: str
    medins_list_codg: str | None = None
    medins_list_name: str | None = None
    med_list_codg: str | None = None
    list_type: str | None = None
    vali_flag: str | None = None
    updated_since: datetime | None = None
    on_date: date | None = None


async def mapping_page(
    session: AsyncSession, query: MappingQuery, page: Page
) -> tuple[int, list[InstitutionListMapping]]:
    table = InstitutionListMapping
    stmt = select(table).where(table.fixmedins_code == query.fixmedins_code)
    if query.medins_list_codg:
        stmt = stmt.where(table.medins_list_codg == query.medins_list_codg)
    if query.medins_list_name:
        stmt = stmt.where(table.medins_list_name.contains(query.medins_list_name, autoescape=True))
    if query.med_list_codg:
        stmt = stmt.where(table.med_list_codg == query.med_list_codg)
    if query.list_type:
        stmt = stmt.where(table.list_type == query.list_type)
    if query.vali_flag:
        stmt = stmt.where(table.vali_flag == query.vali_flag)
    if query.updated_since:
        stmt = stmt.where(table.updated_at >= query.updated_since)
    if query.on_date:
        stmt = stmt.where(_valid_on(table.begndate, table.enddate, query.on_date))
    return await _page(session, stmt, [table.medins_list_codg, table.id], page)
