"""进销存 (3501 … 3511 and the A variants) and 目录对照 (3301/3302) through the interface: good
and bad input for each, a sale tied to its 2102, traceability codes kept, deletions recorded."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import settlement_world
from tests.support.fsi import Institution
from yibao.enrolment import repository as enrolment_repository
from yibao.reference.tables import InstitutionListMapping
from yibao.runtime import Runtime
from yibao.stock.tables import StockMovement, StockTraceCode

VALSARTAN = "XC09AAD012A001010104291"  # 乙类 in the test catalogue
AMOXICILLIN = "XA01ABD075A002010100483"  # 甲类


@pytest.fixture
async def w(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> settlement_world.World:
    built = await settlement_world.build(runtime, session, client, balance_fen=50000)
    await session.close()
    await built.pharmacy.sign_in()
    await built.hospital.sign_in()
    return built


def ok(answer: dict[str, Any]) -> dict[str, Any]:
    assert answer["infcode"] == 0, answer
    output: dict[str, Any] = answer["output"]
    return output


def refused(answer: dict[str, Any], *words: str) -> str:
    assert answer["infcode"] == -1, answer
    message: str = answer["err_msg"]
    for word in words:
        assert word in message, message
    return message


async def _count(runtime: Runtime, table: Any) -> int:
    async with runtime.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(table)) or 0)


def _purchase(bchno: str, cnt: str, **extra: Any) -> dict[str, Any]:
    return {
        "med_list_codg": VALSARTAN,
        "fixmedins_hilist_id": "SP0009",
        "fixmedins_hilist_name": "缬沙坦胶囊",
        "dynt_no": "",
        "fixmedins_bchno": bchno,
        "spler_name": "国药控股深圳有限公司",
        "manu_lotnum": "L2026001",
        "manu_date": "2026-01-01",
        "expy_end": "2028-01-01",
        "finl_trns_pric": "12.50",
        "purc_retn_cnt": cnt,
        "rx_flag": "1",
        "purc_retn_stoin_time": "2026-11-25 09:00:00",
        "purc_retn_opter_name": "张药师",
        **extra,
    }


def _sale(bchno: str, cnt: str, **extra: Any) -> dict[str, Any]:
    return {
        "med_list_codg": VALSARTAN,
        "fixmedins_hilist_id": "SP0009",
        "fixmedins_hilist_name": "缬沙坦胶囊",
        "fixmedins_bchno": bchno,
        "prsc_dr_name": "王医生",
        "phar_name": "张药师",
        "phar_prac_cert_no": "PH001",
        "mdtrt_sn": "MS0001",
        "manu_lotnum": "L2026001",
        "rx_flag": "1",
        "trdn_flag": "0",
        "sel_retn_cnt": cnt,
        "sel_retn_time": "2026-11-25 10:00:00",
        "sel_retn_opter_name": "张药师",
        **extra,
    }


async def _settle_2102(runtime: Runtime, w: settlement_world.World, line: dict[str, Any]) -> Any:
    async with runtime.sessions() as s:
        person = await enrolment_repository.person_by_psn_no(s, w.person.person.psn_no)
        assert person is not None
        id_number = enrolment_repository.decrypt_id_number(runtime.cipher, person)
    sale = {
        "druginfo": {
            "psn_no": w.person.person.psn_no,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": id_number,
            "med_type": "41",
            "medfee_sumamt": line["det_item_fee_sumamt"],
            "insutype": "310",
            "acct_used_flag": "1",
            "psn_setlway": "01",
        },
        "drugdetail": [line],
    }
    return await w.pharmacy.call("2102", sale)


async def test_stock_from_count_to_sale_tied_to_its_settlement(
    runtime: Runtime, w: settlement_world.World
) -> None:
    pharmacy: Institution = w.pharmacy
    count = {
        "med_list_codg": VALSARTAN,
        "fixmedins_hilist_id": "SP0009",
        "fixmedins_hilist_name": "缬沙坦胶囊",
        "rx_flag": "1",
        "invdate": "2026-11-25",
        "inv_cnt": "10",
        "manu_lotnum": "L2026001",
        "fixmedins_bchno": "INV0001",
        "manu_date": "2026-01-01",
        "expy_end": "2028-01-01",
    }
    counted = ok(await pharmacy.call("3501", {"invinfo": count}))
    assert counted["result"] == [
        {
            "fixmedins_hilist_id": "SP0009",
            "fixmedins_bchno": "INV0001",
            "cnt": "10",
            "inv_cnt": "10",
        }
    ]
    traced = _purchase(
        "PUR0001",
        "5.5",
        drugtracinfo=[{"drug_trac_codg": "81234567890123456789"}, {"drug_trac_codg": "8123"}],
    )
    assert ok(await pharmacy.call("3503", {"purcinfo": traced}))["result"][0]["inv_cnt"] == "15.5"
    async with runtime.sessions() as s:
        codes = set((await s.execute(select(StockTraceCode.drug_trac_codg))).scalars())
    assert codes == {"81234567890123456789", "8123"}

    # A 2102 settles the sale; the 3505 names its setl_id and is found by it.
    settled = ok(
        await _settle_2102(
            runtime,
            w,
            {
                "feedetl_sn": "1",
                "med_list_codg": VALSARTAN,
                "pric": "20.00",
                "cnt": "3",
                "det_item_fee_sumamt": "60.00",
            },
        )
    )
    setl_id = settled["setlinfo"]["setl_id"]
    sale = _sale(
        "SEL0001",
        "3",
        setl_id=setl_id,
        psn_no=w.person.person.psn_no,
        certno="440305199001011234",
        drug_trac_codg="81234567890123456789",
    )
    assert ok(await pharmacy.call("3505", {"selinfo": sale}))["result"][0]["inv_cnt"] == "12.5"
    found = ok(await pharmacy.call("3511", {"data": {"setl_id": setl_id}}))
    assert found["recordCounts"] == 1
    row = found["data"][0]
    assert row["setl_id"] == setl_id and row["cnt"] == "-3" and row["inv_cnt"] == "12.5"
    assert row["drugtracinfo"] == [{"drug_trac_codg": "81234567890123456789"}]
    assert row["certno"] != "440305199001011234" and row["certno"].endswith("1234")

    levels = ok(await pharmacy.call("3508", {"data": {"fixmedins_hilist_id": "SP0009"}}))
    assert levels["data"][0]["inv_cnt"] == "12.5"

    # A sale return (3506A: an array) and a stock change (3502: 盘损).
    returned = ok(await pharmacy.call("3506A", {"selinfo": [_sale("SEL0002", "1")]}))
    assert returned["result"][0]["inv_cnt"] == "13.5"
    change = {
        "med_list_codg": VALSARTAN,
        "inv_chg_type": "104",
        "fixmedins_hilist_id": "SP0009",
        "fixmedins_hilist_name": "缬沙坦胶囊",
        "fixmedins_bchno": "CHG0001",
        "pric": "12.50",
        "cnt": "0.5",
        "rx_flag": "1",
        "inv_chg_time": "2026-11-25 11:00:00",
    }
    assert ok(await pharmacy.call("3502", {"invinfo": change}))["result"][0]["inv_cnt"] == "13"
    changes = ok(await pharmacy.call("3509", {"data": {}}))
    assert [r["inv_chg_type"] for r in changes["data"]] == ["104"]

    # 3507 deletes the purchase: recorded, not erased; the stock gives it back.
    deleted = ok(
        await pharmacy.call("3507", {"data": {"fixmedins_bchno": "PUR0001", "inv_data_type": "3"}})
    )
    assert deleted["result"][0]["inv_cnt"] == "7.5"
    purchases = ok(await pharmacy.call("3510", {"data": {}}))
    assert [(r["fixmedins_bchno"], r["vali_flag"]) for r in purchases["data"]] == [("PUR0001", "0")]
    again = await pharmacy.call(
        "3507", {"data": {"fixmedins_bchno": "PUR0001", "inv_data_type": "3"}}
    )
    refused(again, "input.data.fixmedins_bchno")


async def test_stock_never_goes_negative_without_a_reason(
    runtime: Runtime, w: settlement_world.World
) -> None:
    pharmacy = w.pharmacy
    ok(await pharmacy.call("3503", {"purcinfo": _purchase("PUR0001", "2")}))
    before = await _count(runtime, StockMovement)
    answer = await pharmacy.call("3505", {"selinfo": _sale("SEL0001", "3")})
    refused(answer, "input.selinfo", "neg_inv_rea")
    assert await _count(runtime, StockMovement) == before
    # An A variant with one bad record writes none of them.
    batch = [_sale("SEL0002", "1"), _sale("SEL0003", "5")]
    refused(await pharmacy.call("3505A", {"selinfo": batch}), "input.selinfo[1]")
    assert await _count(runtime, StockMovement) == before
    # With its reason recorded it is kept, and the reason is answered back.
    reasoned = _sale("SEL0004", "3", neg_inv_rea="先销售后补录采购")
    assert ok(await pharmacy.call("3505", {"selinfo": reasoned}))["result"][0]["inv_cnt"] == "-1"
    sales = ok(await pharmacy.call("3511", {"data": {}}))
    assert sales["data"][0]["neg_inv_rea"] == "先销售后补录采购"


@pytest.mark.parametrize(
    ("infno", "payload", "words"),
    [
        ("3501", {"invinfo": {}}, ["input.invinfo.fixmedins_hilist_id 缺失"]),
        ("3501", {"invinfo": [1]}, ["input.invinfo[0]"]),
        ("3501", {}, ["input.invinfo"]),
        ("3503", {"purcinfo": _purchase("P1", "1.00001")}, ["input.purcinfo.purc_retn_cnt"]),
        ("3503", {"purcinfo": _purchase("P1", "-1")}, ["input.purcinfo.purc_retn_cnt"]),
        ("3503", {"purcinfo": _purchase("P1", "1", rx_flag="9")}, ["input.purcinfo.rx_flag"]),
        (
            "3503",
            {"purcinfo": _purchase("P1", "1", drugtracinfo=[{"drug_trac_codg": "全角码"}])},
            ["input.purcinfo.drugtracinfo[0].drug_trac_codg"],
        ),
        (
            "3503",
            {"purcinfo": _purchase("P1", "1", purc_retn_stoin_time="2026-13-45 99:00:00")},
            ["input.purcinfo.purc_retn_stoin_time"],
        ),
        ("3505", {"selinfo": _sale("S1", "1", setl_id="S000")}, ["input.selinfo.setl_id"]),
        ("3504", {"purcinfo": _purchase("P1", "1")}, ["input.purcinfo", "neg_inv_rea"]),
        ("3507", {"data": {"fixmedins_bchno": "X", "inv_data_type": "9"}}, ["inv_data_type"]),
        ("3507", {"data": {"fixmedins_bchno": "X", "inv_data_type": "3"}}, ["fixmedins_bchno"]),
        ("3508", {"data": {"page_size": 1001}}, ["input.data.page_size"]),
        ("3511", {"data": {"begndate": "2026-13-01"}}, ["input.data.begndate"]),
    ],
)
async def test_bad_stock_input_is_refused_naming_the_field_and_writes_nothing(
    runtime: Runtime,
    w: settlement_world.World,
    infno: str,
    payload: dict[str, Any],
    words: list[str],
) -> None:
    refused(await w.pharmacy.call(infno, payload), *words)
    assert await _count(runtime, StockMovement) == 0


async def test_a_change_of_an_unknown_type_is_refused(w: settlement_world.World) -> None:
    change = {
        "med_list_codg": VALSARTAN,
        "inv_chg_type": "999",
        "fixmedins_hilist_id": "SP0009",
        "fixmedins_hilist_name": "缬沙坦胶囊",
        "fixmedins_bchno": "CHG0001",
        "pric": "12.50",
        "cnt": "1",
        "rx_flag": "1",
    }
    refused(await w.pharmacy.call("3502A", {"invinfo": [change]}), "input.invinfo[0].inv_chg_type")


async def test_2601_compensates_a_stock_record_and_refuses_a_deletion(
    runtime: Runtime, w: settlement_world.World
) -> None:
    pharmacy = w.pharmacy
    msgid = pharmacy.new_msgid()
    ok(await pharmacy.call("3503", {"purcinfo": _purchase("PUR0001", "4")}, msgid=msgid))
    undo = {"data": {"psn_no": w.person.person.psn_no, "omsgid": msgid, "oinfno": "3503"}}
    assert ok(await pharmacy.call("2601", undo))["data"]["rever_result"] == "stock"
    levels = ok(await pharmacy.call("3508", {"data": {}}))
    assert levels["data"][0]["inv_cnt"] == "0"
    assert ok(await pharmacy.call("2601", undo))["data"]["rever_result"] == "nothing"
    async with runtime.sessions() as s:  # kept, marked, and compensated
        kinds = list(
            (await s.execute(select(StockMovement.kind).order_by(StockMovement.id))).scalars()
        )
    assert kinds == ["purchase", "deletion"]

    msgid = pharmacy.new_msgid()
    ok(await pharmacy.call("3503", {"purcinfo": _purchase("PUR0002", "1")}))
    deletion = {"data": {"fixmedins_bchno": "PUR0002", "inv_data_type": "3"}}
    ok(await pharmacy.call("3507", deletion, msgid=msgid))
    undo = {"data": {"psn_no": w.person.person.psn_no, "omsgid": msgid, "oinfno": "3507"}}
    refused(await pharmacy.call("2601", undo), "3507", "不能冲正")


async def test_mapping_upload_prices_lines_and_a_cancel_keeps_history(
    runtime: Runtime, w: settlement_world.World
) -> None:
    pharmacy = w.pharmacy
    mapping = {
        "fixmedins_hilist_id": "SP0009",
        "fixmedins_hilist_name": "缬沙坦胶囊(店内)",
        "list_type": "101",
        "med_list_codg": VALSARTAN,
        "begndate": "2024-01-01",
        "spec": "80mg*7粒",
    }
    ok(await pharmacy.call("3301", {"data": mapping}))
    listed = ok(await pharmacy.call("1317", {"data": {"medins_list_codg": "SP0009"}}))
    assert [(r["med_list_codg"], r["vali_flag"], r["spec"]) for r in listed["data"]] == [
        (VALSARTAN, "1", "80mg*7粒")
    ]
    # A line naming only the local code is classed by the national one (乙类: 02).
    local_line = {
        "feedetl_sn": "1",
        "medins_list_codg": "SP0009",
        "pric": "20.00",
        "cnt": "1",
        "det_item_fee_sumamt": "20.00",
    }
    settled = ok(await _settle_2102(runtime, w, local_line))
    assert settled["setlinfo"]["medfee_sumamt"] == "20.00"
    assert settled["setlinfo"]["fulamt_ownpay_amt"] == "0.00"  # in the catalogue, not 目录外
    # A line naming both codes must name the mapped one.
    wrong = {**local_line, "med_list_codg": AMOXICILLIN}
    refused(await _settle_2102(runtime, w, wrong), "input.drugdetail[0].med_list_codg")

    # A new mapping from a later day ends the first the day before.
    later = {**mapping, "med_list_codg": AMOXICILLIN, "begndate": "2025-01-01"}
    ok(await pharmacy.call("3301", {"data": later}))
    same_day = await pharmacy.call("3301", {"data": later})
    refused(same_day, "input.data.begndate")
    history = ok(await pharmacy.call("1317", {"data": {"medins_list_codg": "SP0009"}}))
    assert [(r["med_list_codg"], r["enddate"]) for r in history["data"]] == [
        (VALSARTAN, "2024-12-31"),
        (AMOXICILLIN, ""),
    ]
    cancel = {"fixmedins_hilist_id": "SP0009", "list_type": "101", "med_list_codg": AMOXICILLIN}
    ok(await pharmacy.call("3302", {"data": cancel}))
    refused(await pharmacy.call("3302", {"data": cancel}), "input.data.med_list_codg")
    assert await _count(runtime, InstitutionListMapping) == 2  # ended, never deleted
    history = ok(await pharmacy.call("1317", {"data": {"medins_list_codg": "SP0009"}}))
    assert [r["vali_flag"] for r in history["data"]] == ["1", "0"]
    # Unmapped now: a line with only the local code is refused, naming med_list_codg.
    refused(await _settle_2102(runtime, w, local_line), "input.drugdetail[0].med_list_codg 缺失")


@pytest.mark.parametrize(
    ("infno", "data", "words"),
    [
        ("3301", {"fixmedins_hilist_id": "A1", "list_type": "101"}, ["fixmedins_hilist_name 缺失"]),
        (
            "3301",
            {"fixmedins_hilist_id": "A1", "fixmedins_hilist_name": "x", "list_type": "101"},
            ["input.data.med_list_codg 缺失"],
        ),
        (
            "3301",
            {
                "fixmedins_hilist_id": "A1",
                "fixmedins_hilist_name": "x",
                "list_type": "999",
                "med_list_codg": "X1",
            },
            ["input.data.list_type"],
        ),
        ("3301", {"list_type": "101", "med_list_codg": "X1"}, ["input.data.fixmedins_hilist_id"]),
        (
            "3301",
            {
                "fixmedins_hilist_id": "A1",
                "fixmedins_hilist_name": "x",
                "list_type": "101",
                "med_list_codg": "X1",
                "begndate": "2026-02-30",
            },
            ["input.data.begndate"],
        ),
        (
            "3301",
            {
                "fixmedins_hilist_id": "A1",
                "fixmedins_hilist_name": "x",
                "list_type": "101",
                "med_list_codg": "X1",
                "begndate": "2026-02-01",
                "enddate": "2026-01-01",
            },
            ["input.data.enddate"],
        ),
        (
            "3302",
            {"fixmedins_hilist_id": "A1", "med_list_codg": "X1"},
            ["input.data.med_list_codg"],
        ),
        (
            "3302",
            {"fixmedins_code": "H44030500012", "fixmedins_hilist_id": "A1", "med_list_codg": "X1"},
            ["input.data.fixmedins_code"],
        ),
    ],
)
async def test_bad_mapping_input_is_refused_and_writes_nothing(
    runtime: Runtime, w: settlement_world.World, infno: str, data: dict[str, Any], words: list[str]
) -> None:
    refused(await w.pharmacy.call(infno, {"data": data}), *words)
    assert await _count(runtime, InstitutionListMapping) == 0


async def test_2601_of_a_mapping_upload_says_to_cancel_it(w: settlement_world.World) -> None:
    pharmacy = w.pharmacy
    msgid = pharmacy.new_msgid()
    mapping = {
        "fixmedins_hilist_id": "SP0009",
        "fixmedins_hilist_name": "缬沙坦胶囊",
        "list_type": "101",
        "med_list_codg": VALSARTAN,
    }
    ok(await pharmacy.call("3301", {"data": mapping}, msgid=msgid))
    undo = {"data": {"psn_no": w.person.person.psn_no, "omsgid": msgid, "oinfno": "3301"}}
    refused(await pharmacy.call("2601", undo), "3302")


async def test_a_quantity_sent_as_a_json_number_is_kept_exactly(w: settlement_world.World) -> None:
    answer = await w.pharmacy.call("3503", {"purcinfo": _purchase("PUR0001", 2.25)})
    assert ok(answer)["result"][0]["inv_cnt"] == "2.25"
    answer = await w.pharmacy.call("3505", {"selinfo": _sale("SEL0001", 0.1)})
    assert ok(answer)["result"][0]["inv_cnt"] == "2.15"
    listed = ok(await w.pharmacy.call("3511", {"data": {}}))
    assert listed["data"][0]["sel_retn_cnt"] == "0.1"


async def test_a_hospital_fee_line_of_a_mapped_local_code_is_classed_through_the_mapping(
    runtime: Runtime, w: settlement_world.World
) -> None:
    hospital = w.hospital
    mapping = {
        "fixmedins_hilist_id": "YP0001",
        "fixmedins_hilist_name": "缬沙坦胶囊(院内)",
        "list_type": "101",
        "med_list_codg": VALSARTAN,
        "begndate": "2024-01-01",
    }
    ok(await hospital.call("3301", {"data": mapping}))
    async with runtime.sessions() as s:
        person = await enrolment_repository.person_by_psn_no(s, w.person.person.psn_no)
        assert person is not None
        id_number = enrolment_repository.decrypt_id_number(runtime.cipher, person)
    registered = ok(
        await hospital.call(
            "2201",
            {
                "data": {
                    "psn_no": w.person.person.psn_no,
                    "insutype": "310",
                    "mdtrt_cert_type": "02",
                    "mdtrt_cert_no": id_number,
                    "med_type": "11",
                }
            },
        )
    )
    line = {
        "feedetl_sn": "1",
        "mdtrt_id": registered["data"]["mdtrt_id"],
        "psn_no": w.person.person.psn_no,
        "medins_list_codg": "YP0001",
        "pric": "80.00",
        "cnt": "1",
        "det_item_fee_sumamt": "80.00",
        "fee_ocur_time": "2026-11-25 09:10:00",
    }
    uploaded = ok(await hospital.call("2204", {"feedetail": [line]}))
    assert uploaded["result"][0]["chrgitm_lv"] == "02"  # 缬沙坦胶囊: 乙类, through the mapping
    assert uploaded["result"][0]["fulamt_ownpay_amt"] == "0.00"
    # Another institution's mapping is not this one's: the pharmacy's line is not mapped.
    refused(
        await _settle_2102(runtime, w, {**line, "mdtrt_id": None, "psn_no": None}),
        "input.drugdetail[0].med_list_codg 缺失",
    )


def _record(infno: str) -> tuple[str, dict[str, Any]]:
    """A good record of each writing transaction, under its wrapper."""
    base = infno[:4]
    if base in {"3501", "3502"}:
        record: dict[str, Any] = {
            "med_list_codg": VALSARTAN,
            "fixmedins_hilist_id": "SP0009",
            "fixmedins_hilist_name": "缬沙坦胶囊",
            "rx_flag": "1",
            "fixmedins_bchno": "B1",
        }
        if base == "3501":
            record.update(invdate="2026-11-25", inv_cnt="30")
        else:
            record.update(
                inv_chg_type="101", pric="1.00", cnt="3", inv_chg_time="2026-11-25 09:00:00"
            )
        return "invinfo", record
    if base in {"3503", "3504"}:
        return "purcinfo", _purchase("B1", "3")
    return "selinfo", _sale("B1", "3")


@pytest.mark.parametrize(
    ("infno", "expected"),
    [
        ("3501", "30"),
        ("3501A", "30"),
        ("3502", "23"),
        ("3502A", "23"),
        ("3503", "23"),
        ("3503A", "23"),
        ("3504", "17"),
        ("3504A", "17"),
        ("3505", "17"),
        ("3505A", "17"),
        ("3506", "23"),
        ("3506A", "23"),
    ],
)
async def test_each_writing_transaction_takes_good_input_and_refuses_bad(
    runtime: Runtime, w: settlement_world.World, infno: str, expected: str
) -> None:
    pharmacy = w.pharmacy
    ok(await pharmacy.call("3503", {"purcinfo": _purchase("B0", "20")}))
    wrapper, record = _record(infno)
    sent: Any = [record] if infno.endswith("A") else record
    assert ok(await pharmacy.call(infno, {wrapper: sent}))["result"][0]["inv_cnt"] == expected
    before = await _count(runtime, StockMovement)
    bad = {k: v for k, v in record.items() if k != "fixmedins_bchno"}
    where = f"input.{wrapper}[0]" if infno.endswith("A") else f"input.{wrapper}"
    refused(
        await pharmacy.call(infno, {wrapper: [bad] if infno.endswith("A") else bad}),
        f"{where}.fixmedins_bchno 缺失",
    )
    assert await _count(runtime, StockMovement) == before
    if infno in {"3501", "3502", "3503", "3505"}:  # 3507A deletes it, by its data type
        data_type = {"3501": "1", "3502": "2", "3503": "3", "3505": "4"}[infno]
        deletion = {"data": {"fixmedins_bchno": "B1", "inv_data_type": data_type}}
        assert ok(await pharmacy.call("3507A", deletion))["result"]
        refused(await pharmacy.call("3507A", deletion), "input.data.fixmedins_bchno")


@pytest.mark.parametrize("infno", ["3509", "3510"])
async def test_the_record_queries_refuse_a_bad_page(w: settlement_world.World, infno: str) -> None:
    refused(await w.pharmacy.call(infno, {"data": {"page_num": 0}}), "input.data.page_num")
    assert ok(await w.pharmacy.call(infno, {"data": {}}))["recordCounts"] == 0
