"""13xx downloads: the records newer than the client's version, as a file fetched with 9102.

Runs inside the interface message's transaction (the file commits with the answer naming it),
so it does not commit.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.files import repository as files_repository
from yibao.kernel.clock import Clock, to_china
from yibao.reference import repository
from yibao.reference.domain import InvalidQuery, Kind, parse_version, tsv_zip
from yibao.reference.tables import InstitutionListMapping, ReferenceRecord


def wall(moment: datetime) -> str:
    return f"{to_china(moment):%Y-%m-%d %H:%M:%S}"


def rid_of(kind: str, row_id: int) -> str:
    return f"{kind}{row_id:016d}"


def national_values(kind: Kind, row: ReferenceRecord | InstitutionListMapping) -> dict[str, str]:
    """Every national field of a record: the imported ones and those yibao keeps."""
    values: dict[str, str] = json.loads(row.fields)
    values.update(
        vali_flag=row.vali_flag,
        rid=rid_of(kind.infno, row.id),
        crte_time=wall(row.created_at),
        updt_time=wall(row.updated_at),
        ver=str(row.ver),
        ver_name=f"{kind.name}{row.ver}",
    )
    return values


@dataclass(frozen=True, slots=True)
class Download:
    file_qury_no: str
    filename: str
    expires_at: datetime
    data_cnt: int
    last_ver: int | None


async def download(
    session: AsyncSession,
    clock: Clock,
    *,
    kind: Kind,
    ver: object,
    fixmedins_code: str,
    ttl_hours: int,
    where: str,
) -> Download:
    if kind.delivery != "file":
        raise InvalidQuery(f"{kind.infno} {kind.name} 按页查询，不生成下载文件")
    since = parse_version(ver, where)
    now = clock.now()
    # A kiosk may ask every few minutes: the same question (kind, version asked from, newest
    # version and count) while an earlier answer's file is still fresh gets that file again.
    count, newest = await repository.newer_summary(session, kind.infno, since)
    source = f"{kind.infno}:{since}:{newest or 0}:{count}"
    ttl = timedelta(hours=ttl_hours)
    reused = await files_repository.fresh_download(session, fixmedins_code, source, now + ttl / 2)
    if reused is not None:
        return Download(reused.file_qury_no, reused.filename, reused.expires_at, count, newest)
    rows = await repository.newer_than(session, kind.infno, since)
    lines = []
    for row in rows:
        values = national_values(kind, row)
        lines.append([values.get(column, "") for column in kind.columns])
    inner = f"{to_china(now):%Y%m%d%H%M%S}{secrets.randbelow(10**13):013d}.txt"
    stored = await files_repository.store(
        session,
        filename=f"{inner}.zip",
        fixmedins_code=fixmedins_code,
        origin="download",
        content=tsv_zip(inner, lines),
        now=now,
        expires_at=now + ttl,
        source=source,
    )
    return Download(
        stored.file_qury_no,
        stored.filename,
        stored.expires_at,
        len(rows),
        rows[-1].ver if rows else None,
    )
