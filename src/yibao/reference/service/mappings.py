"""目录对照 written by the institution itself (3301 upload, 3302 cancel) and read for pricing.

History is kept: a mapping is never deleted. An upload for a local item that already has an
open mapping from an earlier day ends that one the day before the new one starts; a cancel ends
the mapping (its `enddate` set, `vali_flag` 0) and leaves the row for 1317 to answer. Each write
takes a new reference version, so a 1317 client asking by `updt_time` learns of it.

These use cases run inside the interface message's transaction: they do not commit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.kernel.clock import Clock, china_today
from yibao.kernel.errors import Conflict, NotFound
from yibao.reference import repository
from yibao.reference.domain import next_version
from yibao.reference.tables import InstitutionListMapping


@dataclass(frozen=True, slots=True)
class MappingUpload:
    """One local item mapped to a national code. `where` names the message's object in an error
    (`input.data`)."""

    fixmedins_code: str
    medins_list_codg: str
    medins_list_name: str
    med_list_codg: str
    list_type: str
    begndate: date
    enddate: date | None
    admdvs: str
    extra: dict[str, str] = field(default_factory=dict)
    where: str = "input.data"


def _dumps(values: dict[str, str]) -> str:
    return json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


async def _history(
    session: AsyncSession, fixmedins_code: str, medins_list_codg: str
) -> list[InstitutionListMapping]:
    stmt = (
        select(InstitutionListMapping)
        .where(
            InstitutionListMapping.fixmedins_code == fixmedins_code,
            InstitutionListMapping.medins_list_codg == medins_list_codg,
        )
        .order_by(InstitutionListMapping.begndate)
        .with_for_update()
    )
    return list((await session.execute(stmt)).scalars())


async def upload_mapping_in(
    session: AsyncSession, clock: Clock, upload: MappingUpload
) -> InstitutionListMapping:
    """Map a local item from `begndate`; the open mapping it replaces ends the day before."""
    where = upload.where
    if upload.enddate is not None and upload.enddate < upload.begndate:
        raise Conflict(f"{where}.enddate 不能早于 begndate")
    history = await _history(session, upload.fixmedins_code, upload.medins_list_codg)
    for row in history:
        if row.vali_flag != "1":
            continue
        if row.begndate >= upload.begndate:
            raise Conflict(
                f"{where}.begndate 不能早于或等于该项目已有目录对照的开始日期"
                f"（{row.begndate.isoformat()}）；请先用 3302 撤销该对照"
            )
    now = clock.now()
    version = next_version(await repository.last_version(session), china_today(clock))
    for row in history:
        if row.vali_flag == "1" and (row.enddate is None or row.enddate >= upload.begndate):
            row.enddate = upload.begndate - timedelta(days=1)
            row.fields = _dumps({**json.loads(row.fields), "enddate": row.enddate.isoformat()})
            row.ver, row.updated_at = version, now
    values = {
        **upload.extra,
        "fixmedins_code": upload.fixmedins_code,
        "medins_list_codg": upload.medins_list_codg,
        "medins_list_name": upload.medins_list_name,
        "insu_admdvs": upload.admdvs,
        "list_type": upload.list_type,
        "med_list_codg": upload.med_list_codg,
        "begndate": upload.begndate.isoformat(),
        "enddate": upload.enddate.isoformat() if upload.enddate else "",
    }
    mapping = InstitutionListMapping(
        fixmedins_code=upload.fixmedins_code,
        medins_list_codg=upload.medins_list_codg,
        medins_list_name=upload.medins_list_name,
        med_list_codg=upload.med_list_codg,
        list_type=upload.list_type or None,
        begndate=upload.begndate,
        enddate=upload.enddate,
        vali_flag="1",
        fields=_dumps(values),
        ver=version,
        created_at=now,
        updated_at=now,
    )
    session.add(mapping)
    await session.flush()
    return mapping


async def cancel_mapping_in(
    session: AsyncSession,
    clock: Clock,
    *,
    fixmedins_code: str,
    medins_list_codg: str,
    med_list_codg: str,
    list_type: str | None,
    where: str = "input.data",
) -> list[InstitutionListMapping]:
    """End the local item's valid mappings to `med_list_codg` (today is their last day); the
    rows stay, with `vali_flag` 0, as history."""
    today = china_today(clock)
    history = await _history(session, fixmedins_code, medins_list_codg)
    ended = [
        row
        for row in history
        if row.vali_flag == "1"
        and row.med_list_codg == med_list_codg
        and (not list_type or row.list_type in {None, list_type})
    ]
    if not ended:
        raise NotFound(
            f"本机构没有该项目（{where}.fixmedins_hilist_id）与 {where}.med_list_codg "
            "的有效目录对照（也许已撤销）"
        )
    now = clock.now()
    version = next_version(await repository.last_version(session), today)
    for row in ended:
        last_day = max(row.begndate, min(row.enddate or today, today))
        row.enddate, row.vali_flag = last_day, "0"
        row.fields = _dumps({**json.loads(row.fields), "enddate": last_day.isoformat()})
        row.ver, row.updated_at = version, now
    await session.flush()
    return ended


async def mapped_codes(
    session: AsyncSession, fixmedins_code: str, local_codes: set[str], on: date
) -> dict[str, str]:
    """The national code each local item is mapped to on `on` (valid mappings only)."""
    if not local_codes:
        return {}
    table = InstitutionListMapping
    stmt = (
        select(table.medins_list_codg, table.med_list_codg)
        .where(
            table.fixmedins_code == fixmedins_code,
            table.medins_list_codg.in_(local_codes),
            table.vali_flag == "1",
            table.begndate <= on,
            (table.enddate.is_(None)) | (table.enddate >= on),
        )
        .order_by(table.begndate)
    )
    return {local: national for local, national in (await session.execute(stmt)).all()}
