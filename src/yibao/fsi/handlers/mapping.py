"""目录对照: 3301 upload (an institution maps its own item to a national code) and 3302 cancel;
and how 2204/2101/2102 lines that name a mapped local code are priced and classed through it."""

from __future__ import annotations

from datetime import date

from yibao.fsi.call import Call, Reply
from yibao.fsi.envelope import Fields, InvalidMessage
from yibao.fsi.handlers.reading import data_or_input, day
from yibao.kernel.clock import china_today
from yibao.reference import service
from yibao.settlement.domain import FeeLine

LIST_TYPES = {"101", "102", "103", "201", "301"}
# National fields of 3301 kept as sent (1317 answers them).
EXTRA = ("aprvno", "dosform", "exct_cont", "item_cont", "prcunt", "spec", "pacspec", "memo")


def _local_code(data: Fields, *, required: bool = True) -> str:
    """The institution's own code: `fixmedins_hilist_id` as 3301/3302 name it, or
    `medins_list_codg` as 1317 and fee lines do."""
    code = data.code("fixmedins_hilist_id", required=False, max_len=50) or data.code(
        "medins_list_codg", required=False, max_len=50
    )
    if required and not code:
        raise InvalidMessage(f"{data.where}.fixmedins_hilist_id 缺失")
    return code


def _missing(data: Fields, name: str) -> str:
    raise InvalidMessage(f"{data.where}.{name} 缺失")


def _list_type(data: Fields, *, required: bool) -> str:
    value = data.code("list_type", required=required, max_len=3)
    if value and value not in LIST_TYPES:
        raise InvalidMessage(f"{data.where}.list_type 应为 101、102、103、201 或 301")
    return value


async def upload(call: Call) -> Reply:
    """3301: map a local item to a national code from `begndate` (default today)."""
    data = data_or_input(call, "data")
    begndate = day(data, "begndate") or china_today(call.runtime.clock)
    local = _local_code(data)
    mapping = await service.upload_mapping_in(
        call.session,
        call.runtime.clock,
        service.MappingUpload(
            fixmedins_code=call.caller.fixmedins_code,
            medins_list_codg=local,
            medins_list_name=data.text("fixmedins_hilist_name", required=False, max_len=200)
            or data.text("medins_list_name", required=False, max_len=200)
            or _missing(data, "fixmedins_hilist_name"),
            med_list_codg=data.code("med_list_codg", max_len=50),
            list_type=_list_type(data, required=True),
            begndate=begndate,
            enddate=day(data, "enddate"),
            admdvs=call.caller.admdvs,
            extra={name: data.text(name, required=False, max_len=500) for name in EXTRA},
            where=data.where,
        ),
    )
    return Reply(
        {
            "data": {
                "fixmedins_hilist_id": mapping.medins_list_codg,
                "med_list_codg": mapping.med_list_codg,
                "begndate": mapping.begndate.isoformat(),
                "rid": service.rid_of("1317", mapping.id),
            }
        }
    )


async def cancel(call: Call) -> Reply:
    """3302: end the local item's mapping to `med_list_codg` (kept as history, vali_flag 0)."""
    data = data_or_input(call, "data")
    code = data.code("fixmedins_code", required=False, max_len=30)
    if code and code != call.caller.fixmedins_code:
        raise InvalidMessage(f"{data.where}.fixmedins_code 只能撤销本机构的目录对照")
    ended = await service.cancel_mapping_in(
        call.session,
        call.runtime.clock,
        fixmedins_code=call.caller.fixmedins_code,
        medins_list_codg=_local_code(data),
        med_list_codg=data.code("med_list_codg", max_len=50),
        list_type=_list_type(data, required=False) or None,
        where=data.where,
    )
    return Reply(
        {
            "data": {
                "fixmedins_hilist_id": ended[0].medins_list_codg,
                "med_list_codg": ended[0].med_list_codg,
                "enddate": ended[0].enddate.isoformat() if ended[0].enddate else "",
                "cnt": len(ended),
            }
        }
    )


async def fee_lines(call: Call, rows: list[Fields], on: date | None = None) -> list[FeeLine]:
    """Fee lines, each with the national code it is priced and classed by: a line naming a
    local code (`medins_list_codg`) mapped on the day is classed by its mapping (it may then
    leave `med_list_codg` out); a line naming both must name the mapped national code."""
    locals_ = [row.code("medins_list_codg", required=False, max_len=50) for row in rows]
    mapped = await service.mapped_codes(
        call.session,
        call.caller.fixmedins_code,
        {code for code in locals_ if code},
        on or china_today(call.runtime.clock),
    )
    lines = []
    for row, local in zip(rows, locals_, strict=True):
        national = mapped.get(local) if local else None
        sent = row.code("med_list_codg", required=national is None, max_len=50)
        if national and sent and sent != national:
            raise InvalidMessage(
                f"{row.where}.med_list_codg 与本机构目录对照（medins_list_codg）所对照的"
                "医疗目录编码不符"
            )
        lines.append(
            FeeLine(
                feedetl_sn=row.code("feedetl_sn", max_len=30),
                med_list_codg=national or sent,
                pric_fen=row.yuan("pric"),
                cnt=row.count("cnt"),
                det_item_fee_sumamt_fen=row.yuan("det_item_fee_sumamt"),
            )
        )
    return lines
