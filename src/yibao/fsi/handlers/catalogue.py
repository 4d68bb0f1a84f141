"""Catalogue queries answered a page at a time: 1304 民族药品, 1312 医保目录, 1316 医疗目录与医保
目录匹配, 1317 医药机构目录匹配, 1318 限价, 1319 先自付比例."""

from __future__ import annotations

from typing import Any

from yibao.fsi.call import Call, Reply
from yibao.fsi.envelope import Fields, InvalidMessage, yuan
from yibao.fsi.handlers.reading import data_or_input, day, flag, page, since
from yibao.kernel.clock import china_today
from yibao.reference import service
from yibao.reference.domain import KINDS, Kind, page_answer
from yibao.reference.repository import MappingQuery, RecordQuery
from yibao.settlement.repository.listing import CatalogueQuery
from yibao.settlement.tables import CatalogueEntry

# 医保目录 list_type as the national dictionary codes it; settlement's own words beside.
LIST_TYPES = {"drug": "101", "service": "201", "consumable": "301"}
LIST_TYPE_OF_CODE = {"101": "drug", "102": "drug", "103": "drug", "201": "service", "301": "consumable"}  # fmt: skip


def _records_reply(kind: Kind, total: int, rows: list[Any], fields: Fields) -> Reply:
    listed = []
    for row in rows:
        values = service.national_values(kind, row)
        listed.append({column: values.get(column, "") for column in kind.columns})
    return Reply(page_answer(page(fields), total, listed))


async def ethnic_drugs(call: Call) -> Reply:
    """1304: 民族药品目录, by code, name, validity or change since a moment."""
    data = data_or_input(call)
    kind = KINDS["1304"]
    query = RecordQuery(
        kind.infno,
        code=data.code("med_list_codg", required=False, max_len=50) or None,
        name=data.text("drug_genname", required=False, max_len=100) or None,
        vali_flag=flag(data, "vali_flag"),
        updated_since=since(data, "updt_time"),
    )
    total, rows = await service.records(call.session, query, page(data))
    return _records_reply(kind, total, rows, data)


async def medical_to_hilist(call: Call) -> Reply:
    """1316: which 医保目录 code each national medical catalogue code is matched to."""
    data = data_or_input(call)
    kind = KINDS["1316"]
    query = RecordQuery(
        kind.infno,
        code=data.code("med_list_codg", required=False, max_len=50)
        or data.code("medins_list_codg", required=False, max_len=50)
        or None,
        group=data.code("hilist_code", required=False, max_len=50) or None,
        vali_flag=flag(data, "vali_flag"),
        updated_since=since(data, "updt_time"),
        on_date=day(data, "query_date"),
    )
    total, rows = await service.records(call.session, query, page(data))
    return _records_reply(kind, total, rows, data)


async def institution_mappings(call: Call) -> Reply:
    """1317: the asking institution's own items and the national codes they are mapped to."""
    data = data_or_input(call)
    code = data.code("fixmedins_code", required=False, max_len=30)
    if code and code != call.caller.fixmedins_code:
        raise InvalidMessage(f"{data.where}.fixmedins_code 只能查询本机构的目录对照")
    list_type = data.code("list_type", required=False, max_len=3)
    query = MappingQuery(
        call.caller.fixmedins_code,
        medins_list_codg=data.code("medins_list_codg", required=False, max_len=50) or None,
        medins_list_name=data.text("medins_list_name", required=False, max_len=100) or None,
        med_list_codg=data.code("med_list_codg", required=False, max_len=50) or None,
        list_type=list_type or None,
        vali_flag=flag(data, "vali_flag"),
        updated_since=since(data, "updt_time"),
        on_date=day(data, "query_date"),
    )
    total, rows = await service.mappings(call.session, query, page(data))
    return _records_reply(KINDS["1317"], total, rows, data)


def _catalogue_query(call: Call, data: Fields, **extra: bool) -> CatalogueQuery:
    list_type = data.code("list_type", required=False, max_len=3)
    if list_type and list_type not in LIST_TYPE_OF_CODE:
        raise InvalidMessage(f"{data.where}.list_type 应为 101、102、103、201 或 301")
    level = data.code("chrgitm_lv", required=False, max_len=2)
    if level and level not in {"01", "02", "03"}:
        raise InvalidMessage(f"{data.where}.chrgitm_lv 应为 01（甲类）、02（乙类）或 03（丙类）")
    valid = flag(data, "vali_flag")
    return CatalogueQuery(
        code=data.code("hilist_code", required=False, max_len=50) or None,
        name=data.text("hilist_name", required=False, max_len=100) or None,
        list_type=LIST_TYPE_OF_CODE.get(list_type) if list_type else None,
        chrgitm_lv=level or None,
        on_date=day(data, "query_date"),
        valid=None if valid is None else valid == "1",
        today=china_today(call.runtime.clock),
        updated_since=since(data, "updt_time"),
        **extra,
    )


def _ratio(bp: int) -> str:
    return f"{bp // 10000}.{bp % 10000:04d}"


def _common(call: Call, entry: CatalogueEntry) -> dict[str, Any]:
    today = china_today(call.runtime.clock)
    return {
        "hilist_code": entry.med_list_codg,
        "insu_admdvs": call.caller.admdvs,
        "begndate": entry.begin_date.isoformat(),
        "enddate": entry.end_date.isoformat() if entry.end_date else "",
        "vali_flag": "1" if entry.end_date is None or entry.end_date >= today else "0",
        "rid": service.rid_of("1312", entry.id),
        "updt_time": service.wall(entry.updated_at) if entry.updated_at else "",
        "poolarea_no": call.caller.admdvs,
    }


async def hilist(call: Call) -> Reply:
    """1312: the 医保目录 settlement splits bills by (class, list type, validity)."""
    data = data_or_input(call)
    pages = page(data)
    total, rows = await service.catalogue(call.session, _catalogue_query(call, data), pages)
    listed = [
        {
            **_common(call, entry),
            "hilist_name": entry.name,
            "med_chrgitm_type": "",
            "chrgitm_lv": entry.chrgitm_lv,
            "lmt_used_flag": "0",
            "list_type": LIST_TYPES[entry.list_type],
            "memo": entry.spec or "",
        }
        for entry in rows
    ]
    return Reply(page_answer(pages, total, listed))


async def price_caps(call: Call) -> Reply:
    """1318: the items with a price cap (限价), the cap in yuan."""
    data = data_or_input(call)
    pages = page(data)
    query = _catalogue_query(call, data, with_price_cap=True)
    total, rows = await service.catalogue(call.session, query, pages)
    listed = [
        {
            **_common(call, entry),
            "hilist_lmtpric_type": "1",
            "overlmt_dspo_way": "1",  # the part over the cap is paid by the person (超限自付)
            "hilist_pric_uplmt_amt": yuan(entry.price_cap_fen or 0),
        }
        for entry in rows
    ]
    return Reply(page_answer(pages, total, listed))


async def selfpay_shares(call: Call) -> Reply:
    """1319: the 乙类 items with their own 先行自付比例 (the others take the region's)."""
    data = data_or_input(call)
    pages = page(data)
    query = _catalogue_query(call, data, with_selfpay=True)
    total, rows = await service.catalogue(call.session, query, pages)
    listed = [
        {
            **_common(call, entry),
            "selfpay_prop_psn_type": "",
            "selfpay_prop_type": "",
            "selfpay_prop": _ratio(entry.selfpay_bp or 0),
        }
        for entry in rows
    ]
    return Reply(page_answer(pages, total, listed))
