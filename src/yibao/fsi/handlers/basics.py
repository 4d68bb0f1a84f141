"""Basic information: 1201 医药机构信息获取, 1901 字典表下载, 5102 医执人员信息查询, 100001 政策项查询."""

from __future__ import annotations

from yibao.fsi.call import Call, Reply
from yibao.fsi.envelope import InvalidMessage
from yibao.fsi.handlers.reading import data_or_input, flag, page
from yibao.reference import service
from yibao.reference.domain import KINDS, Page, page_answer
from yibao.reference.repository import RecordQuery

# 1201 fixmedins_type: 1 定点医疗机构, 2 定点零售药店; yibao's H and P.
INSTITUTION_TYPES = {"1": "H", "2": "P"}
TYPE_OF_KIND = {"H": "1", "P": "2"}
PRACTITIONER_TYPES = {"1": "医师", "2": "护士", "3": "药师", "4": "医技人员"}


async def institutions(call: Call) -> Reply:
    body = data_or_input(call, "medinsinfo")
    kind = body.text("fixmedins_type", required=False, max_len=1)
    if kind and kind not in INSTITUTION_TYPES:
        raise InvalidMessage(
            f"{body.where}.fixmedins_type 应为 1（定点医疗机构）或 2（定点零售药店）"
        )
    found = await service.institutions(
        call.session,
        code=body.code("fixmedins_code", required=False, max_len=30) or None,
        name=body.text("fixmedins_name", required=False, max_len=100) or None,
        kind=INSTITUTION_TYPES.get(kind) if kind else None,
    )
    return Reply(
        {
            "medinsinfo": [
                {
                    "fixmedins_code": i.fixmedins_code,
                    "fixmedins_name": i.name,
                    "uscc": "",
                    "fixmedins_type": TYPE_OF_KIND[i.kind],
                    "hosp_lv": i.level or "",
                    "admdvs": i.admdvs,
                    "vali_flag": "1" if i.status == "active" else "0",
                }
                for i in found[:1000]
            ]
        }
    )


async def dictionary(call: Call) -> Reply:
    """1901: one dictionary type's values (those under `parentValue` when it is given)."""
    data = data_or_input(call)
    kind = KINDS["1901"]
    parent = data.code("parentValue", required=False, max_len=60) or data.code(
        "parent_value", required=False, max_len=60
    )
    query = RecordQuery(
        kind.infno,
        group=data.code("type", max_len=60),
        parent=parent or None,
        vali_flag=flag(data, "valiFlag") or flag(data, "vali_flag"),
    )
    size = data.raw("page_size") or 1000
    pages = Page.read(data.raw("page_num"), size, data.where)
    total, rows = await service.records(call.session, query, pages)
    listed = []
    for row in rows:
        values = service.national_values(kind, row)
        listed.append(
            {
                "type": values["type"],
                "label": values["label"],
                "value": values["value"],
                "parentValue": values.get("parent_value", ""),
                "sort": int(values["sort"]) if values.get("sort") else 0,
                "valiFlag": values["vali_flag"],
                "createUser": "",
                "createDate": values["crte_time"],
                "version": values["ver"],
            }
        )
    return Reply({"list": listed, "recordCounts": total})


async def practitioners(call: Call) -> Reply:
    """5102: doctors, nurses, pharmacists; an ID number is found by its keyed hash and answered
    masked, as yibao never hands out a full ID number."""
    data = data_or_input(call)
    kind = KINDS["5102"]
    certno = data.code("certno", required=False, max_len=50)
    query = RecordQuery(
        kind.infno,
        group=data.choice("prac_psn_type", set(PRACTITIONER_TYPES)),
        code=data.code("prac_psn_code", required=False, max_len=30) or None,
        name=data.text("prac_psn_name", required=False, max_len=50) or None,
        lookup_hash=service.practitioner_lookup(call.runtime.cipher, certno) if certno else None,
    )
    total, rows = await service.records(call.session, query, page(data))
    listed = []
    for row in rows:
        values = service.national_values(kind, row)
        listed.append({c: values.get(c, "") for c in kind.columns if c != "updt_time"})
    # Some SDKs read the rows from `feedetail`, others from `data`.
    return Reply({"feedetail": listed, "data": listed, "recordCounts": total})


async def policy_items(call: Call) -> Reply:
    """100001: the policy items of a region (the asking institution's unless `insu_admdvs`)."""
    data = data_or_input(call)
    admdvs = data.code("insu_admdvs", required=False, max_len=6) or call.caller.admdvs
    item = data.code("poli_item_code", required=False, max_len=30)
    items = [
        i for i in await service.policy_items(call.session, admdvs) if not item or i.code == item
    ]
    pages = page(data)
    shown = items[pages.offset : pages.offset + pages.size]
    listed = [
        {
            "poli_item_code": i.code,
            "poli_item_name": i.name,
            "insu_admdvs": i.admdvs,
            "admdvs_name": i.region_name,
            "insutype": "310",
            "poli_val": i.value,
            "poli_val_unit": i.unit,
            "vali_flag": "1",
        }
        for i in shown
    ]
    return Reply(page_answer(pages, len(items), listed))
