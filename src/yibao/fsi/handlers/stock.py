"""进销存: 3501 盘存, 3502 库存变更, 3503 采购, 3504 采购退货, 3505 销售, 3506 销售退货 (and their
A variants, which send the same records as an array), 3507 删除, the queries 3508 … 3511, and
how 2601 undoes a record."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from yibao.fsi.call import NOTHING, Call, Original, Reply, Reversed
from yibao.fsi.envelope import Fields, InvalidMessage, wall_time
from yibao.fsi.handlers.reading import data_or_input, day, page
from yibao.kernel.clock import CHINA_TZ
from yibao.kernel.idnumber import mask_id_number
from yibao.reference.domain import page_answer
from yibao.stock import service
from yibao.stock.domain import CHANGE_TYPES, DATA_TYPES, MovementKind, MovementRequest, to_units

# Where each transaction's records are, and the field of its quantity and its time.
SHAPES: dict[MovementKind, tuple[str, str, str]] = {
    "inventory": ("invinfo", "inv_cnt", "invdate"),
    "change": ("invinfo", "cnt", "inv_chg_time"),
    "purchase": ("purcinfo", "purc_retn_cnt", "purc_retn_stoin_time"),
    "purchase_return": ("purcinfo", "purc_retn_cnt", "purc_retn_stoin_time"),
    "sale": ("selinfo", "sel_retn_cnt", "sel_retn_time"),
    "sale_return": ("selinfo", "sel_retn_cnt", "sel_retn_time"),
}
# ID numbers a sale names (the patient, the prescriber, the pharmacist): kept masked only.
ID_NUMBERS = ("certno", "prsc_dr_certno", "phar_certno")
RX_FLAGS = {"0", "1"}
# The transactions that record movements: the code, its name, the movement (the A variant of
# each takes the same records as an array).
RECORDS: tuple[tuple[str, str, MovementKind], ...] = (
    ("3501", "商品盘存上传", "inventory"),
    ("3502", "商品库存变更", "change"),
    ("3503", "商品采购", "purchase"),
    ("3504", "商品采购退货", "purchase_return"),
    ("3505", "商品销售", "sale"),
    ("3506", "商品销售退货", "sale_return"),
)


def _records(call: Call, wrapper: str) -> list[Fields]:
    """The wrapper holds one record (an object) or several (an array, as the A variants send)."""
    raw = call.envelope.input.get(wrapper)
    if isinstance(raw, list):
        return call.input().rows(wrapper)
    if isinstance(raw, dict):
        return [call.input().object(wrapper)]
    raise InvalidMessage(f"input.{wrapper} 应为 JSON 对象或非空数组")


def _quantity(row: Fields, name: str, *, zero: bool) -> int:
    raw = row.raw(name)
    if zero and raw in (0, "0", "0.0", "0.00", "0.0000"):
        return 0
    return to_units(Decimal(row.count(name)), where=f"{row.where}.{name}")


def _moment(row: Fields, name: str) -> datetime | None:
    text = row.text(name, required=False, max_len=19)
    if not text:
        return None
    if len(text) == 10:
        found = day(row, name)
        assert found is not None
        return datetime.combine(found, time(), tzinfo=CHINA_TZ)
    moment = row.moment(name)
    assert moment is not None
    return moment.replace(tzinfo=CHINA_TZ)


def _trace_codes(row: Fields) -> tuple[str, ...]:
    codes = []
    single = row.code("drug_trac_codg", required=False, max_len=100)
    if single:
        codes.append(single)
    raw = row.raw("drugtracinfo")
    if raw is not None:
        if not isinstance(raw, list):
            raise InvalidMessage(f"{row.where}.drugtracinfo 应为数组")
        if len(raw) > 10_000:
            raise InvalidMessage(f"{row.where}.drugtracinfo 最多10000条")
        for i, entry in enumerate(raw):
            codes.append(
                Fields(entry, f"{row.where}.drugtracinfo[{i}]").code("drug_trac_codg", max_len=100)
            )
    return tuple(codes)


def _kept_fields(row: Fields) -> dict[str, object]:
    """The record's national fields as sent, for the queries; ID numbers masked."""
    kept: dict[str, object] = {}
    for name in KNOWN_FIELDS:
        value = row.raw(name)
        if isinstance(value, float):  # a JSON number: its shortest text is what was sent
            kept[name] = repr(value)
        elif isinstance(value, Decimal) and value.is_finite():  # a JSON number read exactly
            kept[name] = format(value, "f")
        elif isinstance(value, (str, int)) and not isinstance(value, bool):
            text = row.text(name, required=False, max_len=500)
            kept[name] = mask_id_number(text) if name in ID_NUMBERS and text else text
    return kept


def _request(call: Call, kind: MovementKind, row: Fields) -> MovementRequest:
    _, quantity_field, time_field = SHAPES[kind]
    rx_flag = row.code("rx_flag", required=False, max_len=3) or "0"
    if rx_flag not in RX_FLAGS:
        raise InvalidMessage(f"{row.where}.rx_flag 应为 0 或 1")
    change_type = None
    if kind == "change":
        change_type = row.choice("inv_chg_type", set(CHANGE_TYPES))
    setl_id = None
    if kind in ("sale", "sale_return"):
        setl_id = row.code("setl_id", required=False, max_len=30) or None
    return MovementRequest(
        kind=kind,
        where=row.where,
        fixmedins_hilist_id=row.code("fixmedins_hilist_id", max_len=30),
        fixmedins_hilist_name=row.text("fixmedins_hilist_name", max_len=200),
        med_list_codg=row.code("med_list_codg", max_len=50),
        rx_flag=rx_flag,
        fixmedins_bchno=row.code("fixmedins_bchno", max_len=30),
        quantity=_quantity(row, quantity_field, zero=kind == "inventory"),
        occurred_at=_moment(row, time_field),
        change_type=change_type,
        reason=row.text("neg_inv_rea", required=False, max_len=500) or None,
        setl_id=setl_id,
        mdtrt_sn=row.code("mdtrt_sn", required=False, max_len=30) or None,
        psn_no=row.code("psn_no", required=False, max_len=30) or None,
        trace_codes=_trace_codes(row),
        fields=_kept_fields(row),
    )


KNOWN_FIELDS = [
    "med_list_codg",
    "fixmedins_hilist_id",
    "fixmedins_hilist_name",
    "rx_flag",
    "invdate",
    "inv_cnt",
    "manu_lotnum",
    "fixmedins_bchno",
    "manu_date",
    "expy_end",
    "memo",
    "inv_chg_type",
    "pric",
    "cnt",
    "inv_chg_time",
    "inv_chg_opter_name",
    "trdn_flag",
    "dynt_no",
    "spler_name",
    "spler_pmtno",
    "prodentp_name",
    "aprvno",
    "finl_trns_pric",
    "purc_retn_cnt",
    "purc_invo_codg",
    "purc_invo_no",
    "purc_retn_stoin_time",
    "purc_retn_opter_name",
    "prod_geay_flag",
    "medins_prod_purc_no",
    "prsc_dr_cert_type",
    "prsc_dr_certno",
    "prsc_dr_name",
    "phar_cert_type",
    "phar_certno",
    "phar_name",
    "phar_prac_cert_no",
    "hi_feesetl_type",
    "setl_id",
    "mdtrt_sn",
    "psn_no",
    "psn_cert_type",
    "certno",
    "psn_name",
    "rxno",
    "rx_circ_flag",
    "rtal_docno",
    "stoout_no",
    "bchno",
    "drug_trac_codg",
    "drug_prod_barc",
    "shelf_posi",
    "sel_retn_cnt",
    "sel_retn_time",
    "sel_retn_opter_name",
    "mdtrt_setl_type",
    "medins_prod_sel_no",
    "neg_inv_rea",
]


def recorder(kind: MovementKind) -> Callable[[Call], Any]:
    wrapper = SHAPES[kind][0]

    async def handle(call: Call) -> Reply:
        rows = _records(call, wrapper)
        requests = [_request(call, kind, row) for row in rows]
        done = await service.record_in(
            call.session,
            call.runtime.clock,
            call.caller.fixmedins_code,
            call.envelope.msgid,
            requests,
        )
        return Reply({"result": [_recorded(r) for r in done]})

    return handle


def _recorded(recorded: service.Recorded) -> dict[str, Any]:
    return {
        "fixmedins_hilist_id": recorded.item.fixmedins_hilist_id,
        "fixmedins_bchno": recorded.movement.fixmedins_bchno,
        "cnt": service.shown(recorded.movement.delta_units),
        "inv_cnt": service.shown(recorded.item.stock_units),
    }


async def delete(call: Call) -> Reply:
    """3507: the records of a batch number and data type are undone, never erased."""
    data = data_or_input(call, "data")
    code = data.code("fixmedins_code", required=False, max_len=30)
    if code and code != call.caller.fixmedins_code:
        raise InvalidMessage(f"{data.where}.fixmedins_code 只能删除本机构的进销存记录")
    done = await service.delete_in(
        call.session,
        call.runtime.clock,
        call.caller.fixmedins_code,
        call.envelope.msgid,
        fixmedins_bchno=data.code("fixmedins_bchno", max_len=30),
        inv_data_type=data.choice("inv_data_type", set(DATA_TYPES)),
        where=data.where,
        reason=data.text("neg_inv_rea", required=False, max_len=500) or None,
    )
    return Reply({"result": [_recorded(r) for r in done]})


async def reverse_record(call: Call, original: Original) -> Reversed:
    """2601 of a 3501 … 3506: its movements are compensated and marked, as a deletion."""
    done = await service.withdraw_message(
        call.session,
        call.runtime.clock,
        call.caller.fixmedins_code,
        msgid=original.msgid,
        by_msgid=call.envelope.msgid,
    )
    return Reversed("stock") if done else NOTHING


def _query(call: Call, kinds: tuple[str, ...]) -> tuple[Fields, service.StockQuery]:
    data = data_or_input(call, "data")
    begin, end = day(data, "begndate"), day(data, "enddate")
    return data, service.StockQuery(
        call.caller.fixmedins_code,
        hilist_id=data.code("fixmedins_hilist_id", required=False, max_len=30) or None,
        med_list_codg=data.code("med_list_codg", required=False, max_len=50) or None,
        kinds=kinds,
        setl_id=data.code("setl_id", required=False, max_len=30) or None,
        since=datetime.combine(begin, time(), tzinfo=CHINA_TZ) if begin else None,
        until=datetime.combine(end, time(), tzinfo=CHINA_TZ) + timedelta(days=1) if end else None,
    )


async def stock_levels(call: Call) -> Reply:
    """3508: each item's stock now."""
    data, query = _query(call, ())
    pages = page(data)
    total, items = await service.items(call.session, query, pages.offset, pages.size)
    rows = [
        {
            "fixmedins_hilist_id": item.fixmedins_hilist_id,
            "fixmedins_hilist_name": item.fixmedins_hilist_name,
            "med_list_codg": item.med_list_codg,
            "rx_flag": item.rx_flag,
            "inv_cnt": service.shown(item.stock_units),
            "updt_time": wall_time(item.updated_at),
        }
        for item in items
    ]
    return Reply(page_answer(pages, total, rows))


def lister(kinds: tuple[str, ...]) -> Callable[[Call], Any]:
    """3509 changes, 3510 purchases (and returns), 3511 sales (and returns); a record deleted
    (3507) or reversed (2601) is listed with `vali_flag` 0."""

    async def handle(call: Call) -> Reply:
        data, query = _query(call, kinds)
        pages = page(data)
        total, found = await service.movements(call.session, query, pages.offset, pages.size)
        rows = [_movement_row(row) for row in found]
        return Reply(page_answer(pages, total, rows))

    return handle


def _movement_row(row: service.MovementRow) -> dict[str, Any]:
    movement, item = row.movement, row.item
    return {
        **json.loads(movement.fields),
        "fixmedins_hilist_id": item.fixmedins_hilist_id,
        "fixmedins_hilist_name": item.fixmedins_hilist_name,
        "med_list_codg": item.med_list_codg,
        "fixmedins_bchno": movement.fixmedins_bchno,
        "inv_data_kind": movement.kind,
        "cnt": service.shown(movement.delta_units),
        "inv_cnt": service.shown(movement.balance_units),
        "neg_inv_rea": movement.negative_reason or "",
        "setl_id": movement.setl_id or "",
        "drugtracinfo": [{"drug_trac_codg": code} for code in row.trace_codes],
        "vali_flag": "0" if movement.undone_at is not None else "1",
        "crte_time": wall_time(movement.created_at),
    }
