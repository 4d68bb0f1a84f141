"""电子结算凭证 over HTTP on both databases: 4901 keeps a voucher that matches its settlement,
4902 and 5501 answer it, 4905 replaces it with the history kept, 2601 withdraws a version, and
every mismatch or bad field is refused naming the field, with nothing kept."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import settlement_world
from tests.support.fsi import Institution
from tests.support.vouchers import PDF, sale, voucher
from yibao.enrolment import repository as enrolment_repository
from yibao.runtime import Runtime
from yibao.settlement_vouchers.tables import SettlementVoucher


class Counter:
    def __init__(self, runtime: Runtime, w: settlement_world.World, id_number: str) -> None:
        self.runtime, self.w, self.id_number = runtime, w, id_number
        self.pharmacy: Institution = w.pharmacy
        self.psn_no = w.person.person.psn_no

    async def sale(self) -> dict[str, Any]:
        return await sale(self.pharmacy, self.psn_no, self.id_number)

    async def kept(self) -> list[SettlementVoucher]:
        async with self.runtime.sessions() as s:
            rows = await s.execute(select(SettlementVoucher).order_by(SettlementVoucher.id))
            return list(rows.scalars())


@pytest.fixture
async def counter(runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient) -> Counter:
    w = await settlement_world.build(runtime, session, client, balance_fen=2000)
    id_number = enrolment_repository.decrypt_id_number(runtime.cipher, w.person.person)
    await session.close()
    await w.pharmacy.sign_in()
    await w.hospital.sign_in()
    return Counter(runtime, w, id_number)


def _refused(answer: dict[str, Any], text: str) -> None:
    assert answer["infcode"] == -1, answer
    assert text in answer["err_msg"], answer["err_msg"]


async def test_a_voucher_is_kept_answered_replaced_and_withdrawn(counter: Counter) -> None:
    pharmacy, setlinfo = counter.pharmacy, await counter.sale()
    setl_id, psn_no = setlinfo["setl_id"], counter.psn_no
    query = {"data": {"setl_id": setl_id, "psn_no": psn_no}}

    status = await pharmacy.call("5501", query)
    assert status["infcode"] == 0, status
    assert status["output"]["data"]["vouch_stas"] == "0"

    msgid = pharmacy.new_msgid()
    first = await pharmacy.call("4901", voucher(setlinfo), msgid=msgid)
    assert first["infcode"] == 0, first
    answer = first["output"]["data"]
    assert answer["vouch_ver"] == 1 and answer["upld_stas"] == "1"
    assert answer["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert answer["bill_amt"] == "60.00" and answer["file_size"] == len(PDF)
    # Once per msgid.
    assert await pharmacy.call("4901", voucher(setlinfo), msgid=msgid) == first
    [row] = await counter.kept()
    assert row.document == PDF and row.document_type == "application/pdf"
    assert row.acct_pay_fen == 1140 and row.medfee_sumamt_fen == 6000

    result = await pharmacy.call("4902", query)
    assert result["output"]["data"]["upld_rslt"] == "1"
    assert result["output"]["data"]["vouch_ver"] == 1
    status = await pharmacy.call("5501", {"data": {"setl_id": setl_id}})
    assert status["output"]["data"]["vouch_stas"] == "1"
    assert status["output"]["data"]["bill_no"] == "0000012345"

    # A second 4901 is refused: 4905 replaces, and says why.
    _refused(await pharmacy.call("4901", voucher(setlinfo)), "4905")
    _refused(await pharmacy.call("4905", voucher(setlinfo)), "input.data.reupld_rea")
    corrected = voucher(setlinfo, document=None, bill_no="0000012346", reupld_rea="号码有误")
    again_msgid = pharmacy.new_msgid()
    second = await pharmacy.call("4905", corrected, msgid=again_msgid)
    assert second["infcode"] == 0, second
    assert second["output"]["data"]["vouch_ver"] == 2
    assert second["output"]["data"]["file_size"] == 0  # structured data only: digest of the data
    kept = await counter.kept()
    assert [r.version for r in kept] == [1, 2] and kept[1].reason == "号码有误"
    assert kept[1].document is None and len(kept[1].digest) == 64
    result = await pharmacy.call("4902", query)
    assert result["output"]["data"]["bill_no"] == "0000012346"

    # 2601 of the 4905: version 1 is current again; a second 2601 finds nothing.
    undo = {"data": {"psn_no": psn_no, "omsgid": again_msgid, "oinfno": "4905"}}
    reversed_ = await pharmacy.call("2601", undo)
    assert reversed_["output"]["data"]["rever_result"] == "voucher", reversed_
    assert reversed_["output"]["data"]["setl_id"] == setl_id
    result = await pharmacy.call("4902", query)
    assert result["output"]["data"]["vouch_ver"] == 1
    twice = await pharmacy.call("2601", undo)
    assert twice["output"]["data"]["rever_result"] == "nothing"
    other = {
        "data": {"psn_no": counter.w.resident.person.psn_no, "omsgid": msgid, "oinfno": "4901"}
    }
    _refused(await pharmacy.call("2601", other), "参保人不符")
    assert len(await counter.kept()) == 2  # the history stays

    # The settlement is cancelled: its voucher is void, and no new one is taken.
    cancel = await pharmacy.call("2103", {"data": {"setl_id": setl_id, "psn_no": psn_no}})
    assert cancel["infcode"] == 0, cancel
    status = await pharmacy.call("5501", query)
    assert status["output"]["data"]["vouch_stas"] == "2"
    _refused(await pharmacy.call("4905", corrected), "已撤销")


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"acct_pay": "11.41"}, "input.data.acct_pay"),
        ({"psn_cash_pay": "1.00"}, "input.data.psn_cash_pay"),
        ({"bill_amt": "59.00"}, "input.data.bill_amt"),
        ({"fund_pay_sumamt": "0.00"}, "input.data.fund_pay_sumamt"),
        ({"hifp_pay": "1.00"}, "input.data.hifp_pay"),
        ({"acct_mulaid_pay": "2.00"}, "input.data.acct_mulaid_pay"),
        ({"medfee_sumamt": "60.001"}, "input.data.medfee_sumamt"),
        ({"psn_name": "李四"}, "input.data.psn_name"),
        ({"bill_no": None}, "input.data.bill_no 缺失"),
        ({"bill_chkcode": "全角校验码"}, "input.data.bill_chkcode"),
        ({"bill_time": "2026-13-45 99:99:99"}, "input.data.bill_time"),
        ({"file": "not base64!"}, "input.data.file"),
        ({"file": "aGVsbG8="}, "input.data.file"),  # "hello": not a PDF or an image
        ({"psn_no": "NOBODY"}, "input.data.psn_no 与结算"),
        ({"setl_id": "S-NONE"}, "本机构没有该参保人的结算"),
    ],
)
async def test_a_voucher_that_does_not_match_is_refused_naming_the_field(
    counter: Counter, override: dict[str, Any], named: str
) -> None:
    setlinfo = await counter.sale()
    body = voucher(setlinfo)
    for name, value in override.items():
        if value is None:
            del body["data"][name]
        else:
            body["data"][name] = value
    _refused(await counter.pharmacy.call("4901", body), named)
    assert await counter.kept() == []


async def test_another_institution_finds_no_settlement_and_a_pdf_with_script_is_refused(
    counter: Counter,
) -> None:
    setlinfo = await counter.sale()
    # The hospital cannot upload (or query) the pharmacy's settlement.
    _refused(await counter.w.hospital.call("4901", voucher(setlinfo)), "本机构没有该参保人的结算")
    query = {"data": {"setl_id": setlinfo["setl_id"]}}
    _refused(await counter.w.hospital.call("5501", query), "本机构没有该参保人的结算")
    _refused(await counter.pharmacy.call("4902", query), "没有已上传的电子结算凭证")
    scripted = PDF.replace(b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /JavaScript >>")
    _refused(
        await counter.pharmacy.call("4901", voucher(setlinfo, document=scripted)),
        "input.data.file",
    )
    # Without the day's sign-in a write is refused.
    counter.pharmacy.sign_no = "wrong"
    _refused(await counter.pharmacy.call("4901", voucher(setlinfo)), "sign_no")
    async with counter.runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(SettlementVoucher)) == 0


async def test_two_corrections_at_once_get_two_versions(counter: Counter) -> None:
    """The settlement row is locked while a version is numbered: two 4905 sent together queue,
    and both are kept, as versions 2 and 3 (neither is lost or refused)."""
    setlinfo = await counter.sale()
    first = await counter.pharmacy.call("4901", voucher(setlinfo))
    assert first["infcode"] == 0, first
    bodies = [
        voucher(setlinfo, document=None, bill_no=f"00000999{n}", reupld_rea="更正") for n in (1, 2)
    ]
    answers = await asyncio.gather(*(counter.pharmacy.call("4905", b) for b in bodies))
    assert all(a["infcode"] == 0 for a in answers), answers
    assert sorted(a["output"]["data"]["vouch_ver"] for a in answers) == [2, 3]
    assert [r.version for r in await counter.kept()] == [1, 2, 3]
