"""Reference queries answered a page at a time: 1201, 1304, 1312, 1316–1319, 1901, 5102, 100001."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import reference, settlement_world, world
from tests.support.fsi import Institution
from yibao.runtime import Runtime

PRACTITIONER_ID = world.new_id_number("440305")


@pytest.fixture
async def w(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> settlement_world.World:
    built = await settlement_world.build(runtime, session, client, balance_fen=0)
    await reference.load(
        runtime,
        session,
        "dictionary",
        [
            {"type": "gend", "value": "1", "label": "男", "sort": "1"},
            {"type": "gend", "value": "2", "label": "女", "sort": "2"},
            {"type": "admdvs", "value": "440300", "label": "深圳市", "parent_value": "440000"},
        ],
    )
    await reference.load(
        runtime,
        session,
        "practitioners",
        [
            {
                "prac_psn_code": "D440305000123",
                "prac_psn_name": "王芳",
                "prac_psn_type": "1",
                "psn_cert_type": "01",
                "certno": PRACTITIONER_ID,
                "hi_dr_flag": "1",
            },
            {"prac_psn_code": "N440305000456", "prac_psn_name": "陈静", "prac_psn_type": "2"},
        ],
    )
    await reference.load(
        runtime,
        session,
        "mappings",
        [
            {
                "fixmedins_code": built.hospital.code,
                "medins_list_codg": "YP0001",
                "medins_list_name": "阿莫西林胶囊(院内)",
                "med_list_codg": "XA01ABD075A002010100483",
                "list_type": "101",
                "begndate": "2024-01-01",
            },
            {
                "fixmedins_code": built.pharmacy.code,
                "medins_list_codg": "SP0009",
                "medins_list_name": "缬沙坦胶囊",
                "med_list_codg": "XC09AAD012A001010104291",
                "begndate": "2024-01-01",
            },
        ],
    )
    await session.close()
    return built


def _kiosk(institution: Institution) -> Institution:
    institution.sign_no = ""
    return institution


async def test_1312_pages_the_catalogue_settlement_applies(w: settlement_world.World) -> None:
    hospital = _kiosk(w.hospital)
    first = await hospital.call("1312", {"data": {"page_num": 1, "page_size": 2}})
    assert first["infcode"] == 0, first
    out = first["output"]
    assert (out["recordCounts"], out["pages"], out["size"]) == (5, 3, 2)
    assert out["firstPage"] and not out["lastPage"]
    last = await hospital.call("1312", {"data": {"page_num": "3", "page_size": "2"}})
    assert last["output"]["lastPage"] and last["output"]["size"] == 1
    one = await hospital.call("1312", {"data": {"hilist_code": "XC09AAD012A001010104291"}})
    (row,) = one["output"]["data"]
    assert (row["hilist_name"], row["chrgitm_lv"], row["list_type"]) == ("缬沙坦胶囊", "02", "101")
    assert row["vali_flag"] == "1" and row["updt_time"]


async def test_1318_and_1319_answer_the_caps_and_shares_of_the_bill_split(
    w: settlement_world.World,
) -> None:
    pharmacy = _kiosk(w.pharmacy)
    caps = await pharmacy.call("1318", {"data": {}})
    assert [(r["hilist_code"], r["hilist_pric_uplmt_amt"]) for r in caps["output"]["data"]] == [
        ("001102000010000", "20.00")
    ]
    shares = await pharmacy.call("1319", {"data": {"page_num": 1, "page_size": 10}})
    assert [(r["hilist_code"], r["selfpay_prop"]) for r in shares["output"]["data"]] == [
        ("XR05XAK122A001010101235", "0.2000")
    ]


async def test_1317_answers_only_the_asking_institutions_mappings(
    w: settlement_world.World,
) -> None:
    hospital = _kiosk(w.hospital)
    own = await hospital.call("1317", {"data": {"page_num": 1, "page_size": 100}})
    assert [r["medins_list_codg"] for r in own["output"]["data"]] == ["YP0001"]
    assert own["output"]["data"][0]["med_list_codg"] == "XA01ABD075A002010100483"
    other = await hospital.call("1317", {"data": {"fixmedins_code": w.pharmacy.code}})
    assert other["infcode"] == -1
    assert "input.data.fixmedins_code" in other["err_msg"]


async def test_1901_answers_a_dictionary_type(w: settlement_world.World) -> None:
    answer = await _kiosk(w.pharmacy).call("1901", {"data": {"type": "gend", "parentValue": ""}})
    assert answer["infcode"] == 0, answer
    assert [(r["value"], r["label"], r["sort"]) for r in answer["output"]["list"]] == [
        ("1", "男", 1),
        ("2", "女", 2),
    ]
    missing = await _kiosk(w.pharmacy).call("1901", {"data": {}})
    assert missing["infcode"] == -1 and "input.data.type" in missing["err_msg"]


async def test_5102_finds_a_practitioner_by_id_number_and_never_shows_it(
    w: settlement_world.World,
) -> None:
    hospital = _kiosk(w.hospital)
    found = await hospital.call(
        "5102",
        {"data": {"prac_psn_type": "1", "psn_cert_type": "01", "certno": PRACTITIONER_ID.lower()}},
    )
    assert found["infcode"] == 0, found
    (row,) = found["output"]["feedetail"]
    assert row["prac_psn_name"] == "王芳"
    assert row["certno"] != PRACTITIONER_ID and row["certno"].endswith(PRACTITIONER_ID[-4:])
    assert PRACTITIONER_ID not in str(found)
    nurses = await hospital.call("5102", {"data": {"prac_psn_type": "2"}})
    assert [r["prac_psn_code"] for r in nurses["output"]["data"]] == ["N440305000456"]
    wrong = await hospital.call("5102", {"data": {"prac_psn_type": "9"}})
    assert wrong["infcode"] == -1 and "input.data.prac_psn_type" in wrong["err_msg"]


async def test_1201_and_100001(w: settlement_world.World) -> None:
    hospital = _kiosk(w.hospital)
    found = await hospital.call("1201", {"medinsinfo": {"fixmedins_type": "2"}})
    assert [r["fixmedins_code"] for r in found["output"]["medinsinfo"]] == [w.pharmacy.code]
    policy = await hospital.call("100001", {"data": {"poli_item_code": "DEDUCTIBLE"}})
    (item,) = policy["output"]["data"]
    assert item["insu_admdvs"] == "440300" and item["poli_val"]


@pytest.mark.parametrize(
    ("infno", "data", "named"),
    [
        ("1312", {"page_size": 1001}, "input.data.page_size"),
        ("1312", {"page_num": "0"}, "input.data.page_num"),
        ("1312", {"updt_time": "2026-13-01"}, "input.data.updt_time"),
        ("1312", {"list_type": "999"}, "input.data.list_type"),
        ("1304", {"vali_flag": "2"}, "input.data.vali_flag"),
        ("1316", {"query_date": "yesterday"}, "input.data.query_date"),
    ],
)
async def test_bad_queries_are_refused_naming_the_field(
    w: settlement_world.World, infno: str, data: dict[str, object], named: str
) -> None:
    answer = await _kiosk(w.pharmacy).call(infno, {"data": data})
    assert answer["infcode"] == -1, answer
    assert named in answer["err_msg"]
