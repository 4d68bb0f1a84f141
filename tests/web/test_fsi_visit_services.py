"""The service transactions of #23 over HTTP on both databases: 2001 treatment check, 2202
registration cancel, 2203 visit and diagnoses (and its 2601), 2205 fee batch cancel, 9002
sign-out. Each names the field it refuses, writes in one transaction, answers once per msgid."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import settlement_world
from tests.support.fsi import Institution
from yibao.enrolment import repository as enrolment_repository
from yibao.ledger.service import freeze_account
from yibao.runtime import Runtime
from yibao.settlement.tables import FeeDetail, Visit, VisitDiagnosis

NOW = "2026-11-25 09:00:00"


class Clinic:
    def __init__(self, runtime: Runtime, w: settlement_world.World, id_number: str) -> None:
        self.runtime, self.w, self.id_number = runtime, w, id_number
        self.hospital: Institution = w.hospital
        self.psn_no = w.person.person.psn_no

    async def register(self) -> str:
        answer = await self.hospital.call(
            "2201",
            {
                "data": {
                    "psn_no": self.psn_no,
                    "insutype": "310",
                    "mdtrt_cert_type": "02",
                    "mdtrt_cert_no": self.id_number,
                    "med_type": "11",
                }
            },
        )
        assert answer["infcode"] == 0, answer
        return str(answer["output"]["data"]["mdtrt_id"])

    async def upload(self, mdtrt_id: str, batch: str, sns: list[str]) -> None:
        lines = [
            {
                "feedetl_sn": sn,
                "mdtrt_id": mdtrt_id,
                "psn_no": self.psn_no,
                "chrg_bchno": batch,
                "med_list_codg": "XA01ABD075A002010100483",
                "pric": "10.00",
                "cnt": "1",
                "det_item_fee_sumamt": "10.00",
            }
            for sn in sns
        ]
        answer = await self.hospital.call("2204", {"feedetail": lines})
        assert answer["infcode"] == 0, answer

    async def settle(self, mdtrt_id: str, total: str) -> dict[str, Any]:
        bill = {
            "psn_no": self.psn_no,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": self.id_number,
            "med_type": "11",
            "medfee_sumamt": total,
            "mdtrt_id": mdtrt_id,
            "insutype": "310",
            "acct_used_flag": "1",
        }
        return await self.hospital.call("2207", {"data": bill})

    def visit_info(self, mdtrt_id: str, **diagnosis: str) -> dict[str, Any]:
        return {
            "mdtrtinfo": {
                "mdtrt_id": mdtrt_id,
                "psn_no": self.psn_no,
                "med_type": "11",
                "begntime": NOW,
                "main_cond_dscr": "咳嗽三天",
                "dise_codg": "",
                "dise_name": "",
            },
            "diseinfo": [
                {
                    "diag_type": "1",
                    "diag_srt_no": "1",
                    "diag_code": "J06.900",
                    "diag_name": "急性上呼吸道感染",
                    "diag_dept": "内科",
                    "dise_dor_no": "D001",
                    "dise_dor_name": "王医生",
                    "diag_time": NOW,
                    "vali_flag": "1",
                    **diagnosis,
                },
                {
                    "diag_type": "2",
                    "diag_srt_no": "2",
                    "diag_code": "A01.01.01",
                    "diag_name": "感冒病",
                    "vali_flag": "1",
                },
            ],
        }

    async def upload_refused(self, mdtrt_id: str) -> dict[str, Any]:
        line = {
            "feedetl_sn": "9",
            "mdtrt_id": mdtrt_id,
            "psn_no": self.psn_no,
            "med_list_codg": "XA01ABD075A002010100483",
            "pric": "10.00",
            "cnt": "1",
            "det_item_fee_sumamt": "10.00",
        }
        return await self.hospital.call("2204", {"feedetail": [line]})

    async def count(self, table: Any) -> int:
        async with self.runtime.sessions() as s:
            return int(await s.scalar(select(func.count()).select_from(table)) or 0)

    async def visit(self, mdtrt_id: str) -> Visit:
        async with self.runtime.sessions() as s:
            visit = await s.scalar(select(Visit).where(Visit.mdtrt_id == mdtrt_id))
            assert visit is not None
            return visit


@pytest.fixture
async def clinic(runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient) -> Clinic:
    w = await settlement_world.build(runtime, session, client)
    id_number = enrolment_repository.decrypt_id_number(runtime.cipher, w.person.person)
    await session.close()
    await w.hospital.sign_in()
    return Clinic(runtime, w, id_number)


def _refused(answer: dict[str, Any], text: str) -> None:
    assert answer["infcode"] == -1, answer
    assert text in answer["err_msg"], answer["err_msg"]


async def test_2001_says_what_the_person_may_receive_and_why_not(
    clinic: Clinic, runtime: Runtime
) -> None:
    data = {
        "psn_no": clinic.psn_no,
        "insutype": "310",
        "fixmedins_code": clinic.hospital.code,
        "med_type": "11",
        "begntime": NOW,
    }
    kiosk = clinic.hospital
    kiosk.sign_no = ""  # a look-up: no sign-in needed
    answer = await kiosk.call("2001", {"data": data})
    assert answer["infcode"] == 0, answer
    rows = {row["fund_pay_type"]: row for row in answer["output"]["trtinfo"]}
    assert rows["310100"]["trt_enjymnt_flag"] == "1" and rows["310100"]["trt_chk_rslt"] is None
    assert rows["310200"]["trt_enjymnt_flag"] == "1"
    assert rows["310100"]["psn_no"] == clinic.psn_no

    async with runtime.sessions() as s:
        await freeze_account(s, clinic.w.person.person.id, "测试冻结", runtime.clock)
    frozen = await kiosk.call("2001", {"data": data})
    rows = {row["fund_pay_type"]: row for row in frozen["output"]["trtinfo"]}
    assert rows["310100"]["trt_enjymnt_flag"] == "1"
    assert rows["310200"]["trt_enjymnt_flag"] == "0"
    assert "个人账户已冻结" in rows["310200"]["trt_chk_rslt"]
    assert "个人账户已冻结" in frozen["warn_msg"]

    # Not enrolled in that insurance, and a pharmacy's medical type at a hospital: each reason.
    resident = {**data, "psn_no": clinic.w.resident.person.psn_no, "med_type": "41"}
    other = await kiosk.call("2001", {"data": resident})
    [pooled, account] = other["output"]["trtinfo"]
    assert pooled["trt_enjymnt_flag"] == "0"
    assert "未参加险种 310" in pooled["trt_chk_rslt"]
    assert "医疗类别 41 仅用于定点药店购药" in pooled["trt_chk_rslt"]
    assert account["trt_enjymnt_flag"] == "0"

    _refused(await kiosk.call("2001", {"data": {**data, "insutype": "999"}}), "input.data.insutype")
    _refused(await kiosk.call("2001", {"data": {**data, "begntime": "x"}}), "input.data.begntime")
    no_person = {**data, "psn_no": "NOBODY"}
    _refused(await kiosk.call("2001", {"data": no_person}), "psn_no=NOBODY")


async def test_2203_records_the_visit_and_2601_withdraws_it(clinic: Clinic) -> None:
    mdtrt_id = await clinic.register()
    msgid = clinic.hospital.new_msgid()
    answer = await clinic.hospital.call("2203", clinic.visit_info(mdtrt_id), msgid=msgid)
    assert answer["infcode"] == 0, answer
    assert answer["output"] == {"data": {"mdtrt_id": mdtrt_id}}
    visit = await clinic.visit(mdtrt_id)
    assert visit.main_cond_dscr == "咳嗽三天" and visit.info_msgid == msgid
    assert await clinic.count(VisitDiagnosis) == 2
    # Once per msgid; a corrected 2203 replaces the diagnoses; 2203A is the same transaction.
    assert await clinic.hospital.call("2203", clinic.visit_info(mdtrt_id), msgid=msgid) == answer
    assert await clinic.count(VisitDiagnosis) == 2
    fixed = clinic.visit_info(mdtrt_id, diag_code="J00.X00", diag_name="急性鼻咽炎")
    assert (await clinic.hospital.call("2203A", fixed))["infcode"] == 0
    assert await clinic.count(VisitDiagnosis) == 2

    # Bad input names the field; nothing is written.
    bad = clinic.visit_info(mdtrt_id, diag_type="9")
    _refused(await clinic.hospital.call("2203", bad), "input.diseinfo[0].diag_type")
    bad = clinic.visit_info(mdtrt_id, diag_srt_no="1.5")
    _refused(await clinic.hospital.call("2203", bad), "input.diseinfo[0].diag_srt_no")
    bad = clinic.visit_info(mdtrt_id, diag_srt_no="2")
    _refused(await clinic.hospital.call("2203", bad), "diag_srt_no（诊断排序号）重复")
    wrong_type = clinic.visit_info(mdtrt_id)
    wrong_type["mdtrtinfo"]["med_type"] = "13"
    _refused(await clinic.hospital.call("2203", wrong_type), "med_type 13 与就诊")
    none = {**clinic.visit_info(mdtrt_id), "diseinfo": []}
    _refused(await clinic.hospital.call("2203", none), "input.diseinfo")

    # 2601 of the first 2203: its diagnoses were replaced already, nothing is left of it.
    undo = {"data": {"psn_no": clinic.psn_no, "omsgid": msgid, "oinfno": "2203"}}
    nothing = await clinic.hospital.call("2601", undo)
    assert nothing["output"]["data"]["rever_result"] == "nothing", nothing
    # Another 2203, then its 2601: the information and diagnoses are withdrawn.
    latest = clinic.hospital.new_msgid()
    assert (await clinic.hospital.call("2203", clinic.visit_info(mdtrt_id), msgid=latest))[
        "infcode"
    ] == 0
    undo = {"data": {"psn_no": clinic.psn_no, "omsgid": latest, "oinfno": "2203"}}
    done = await clinic.hospital.call("2601", undo)
    assert done["output"]["data"]["rever_result"] == "visit_info", done
    assert await clinic.count(VisitDiagnosis) == 0
    assert (await clinic.visit(mdtrt_id)).main_cond_dscr is None


async def test_2205_withdraws_one_charge_batch(clinic: Clinic) -> None:
    mdtrt_id = await clinic.register()
    await clinic.upload(mdtrt_id, "B1", ["1", "2"])
    await clinic.upload(mdtrt_id, "B2", ["3"])
    data = {"mdtrt_id": mdtrt_id, "chrg_bchno": "B2", "psn_no": clinic.psn_no}
    msgid = clinic.hospital.new_msgid()
    answer = await clinic.hospital.call("2205", {"data": data}, msgid=msgid)
    assert answer["output"]["data"] == {"mdtrt_id": mdtrt_id, "cnt": 1}, answer
    assert await clinic.count(FeeDetail) == 2
    assert await clinic.hospital.call("2205", {"data": data}, msgid=msgid) == answer  # once
    _refused(await clinic.hospital.call("2205", {"data": data}), "没有收费批次 chrg_bchno=B2")
    _refused(
        await clinic.hospital.call("2205", {"data": {**data, "chrg_bchno": ""}}),
        "input.data.chrg_bchno",
    )
    # 2601 refuses a cancel; the line can be uploaded again under its feedetl_sn.
    undo = {"data": {"psn_no": clinic.psn_no, "omsgid": msgid, "oinfno": "2205"}}
    _refused(await clinic.hospital.call("2601", undo), "撤销类交易 2205 不能冲正")
    await clinic.upload(mdtrt_id, "B3", ["3"])
    # A settled visit's lines are its settlement's.
    settled = await clinic.settle(mdtrt_id, "30.00")
    assert settled["infcode"] == 0, settled
    every = {**data, "chrg_bchno": "0000"}
    _refused(await clinic.hospital.call("2205", {"data": every}), "已结算，请先撤销结算（2208）")
    assert await clinic.count(FeeDetail) == 3


async def test_2205_with_0000_withdraws_every_line(clinic: Clinic) -> None:
    mdtrt_id = await clinic.register()
    await clinic.upload(mdtrt_id, "B1", ["1"])
    await clinic.upload(mdtrt_id, "B2", ["2"])
    data = {"mdtrt_id": mdtrt_id, "chrg_bchno": "0000", "psn_no": clinic.psn_no}
    answer = await clinic.hospital.call("2205", {"data": data})
    assert answer["output"]["data"]["cnt"] == 2, answer
    assert await clinic.count(FeeDetail) == 0


async def test_2202_cancels_an_open_registration_only(clinic: Clinic) -> None:
    mdtrt_id = await clinic.register()
    data = {"psn_no": clinic.psn_no, "mdtrt_id": mdtrt_id, "ipt_otp_no": "MZ1"}
    msgid = clinic.hospital.new_msgid()
    answer = await clinic.hospital.call("2202", {"data": data}, msgid=msgid)
    assert answer["infcode"] == 0, answer
    assert (await clinic.visit(mdtrt_id)).status == "cancelled"
    assert await clinic.hospital.call("2202", {"data": data}, msgid=msgid) == answer
    _refused(await clinic.hospital.call("2202", {"data": data}), "已撤销")
    undo = {"data": {"psn_no": clinic.psn_no, "omsgid": msgid, "oinfno": "2202"}}
    _refused(await clinic.hospital.call("2601", undo), "撤销类交易 2202 不能冲正")
    _refused(await clinic.upload_refused(mdtrt_id), "已结算或已撤销")

    settled_visit = await clinic.register()
    await clinic.upload(settled_visit, "B1", ["1"])
    assert (await clinic.settle(settled_visit, "10.00"))["infcode"] == 0
    settled = {**data, "mdtrt_id": settled_visit}
    _refused(await clinic.hospital.call("2202", {"data": settled}), "已结算，请先撤销结算（2208）")
    # Another institution's (or person's) visit is "none", whatever its state.
    resident = {**data, "psn_no": clinic.w.resident.person.psn_no}
    _refused(await clinic.hospital.call("2202", {"data": resident}), "本机构没有该参保人的就诊")
    _refused(
        await clinic.hospital.call("2202", {"data": {**data, "mdtrt_id": ""}}),
        "input.data.mdtrt_id",
    )


async def test_9002_ends_the_days_sign_in(clinic: Clinic) -> None:
    hospital = clinic.hospital
    sign_no = hospital.sign_no
    assert sign_no
    wrong = {"signOut": {"sign_no": "X" + sign_no, "fixmedins_code": hospital.code}}
    _refused(await hospital.call("9002", wrong), "input.signOut.sign_no")
    answer = await hospital.call("9002", {"signOut": {"sign_no": sign_no}})
    assert answer["infcode"] == 0, answer
    assert "sign_time" in answer["output"]["signoutoutb"]
    # What needs the sign-in is refused now; a look-up still answers; 9001 opens the day again.
    _refused(await clinic.settle("M0", "1.00"), "请重新调用 9001 签到")
    look_up = {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": clinic.id_number}}
    assert (await hospital.call("1101", look_up))["infcode"] == 0
    assert await hospital.sign_in() != sign_no
    _refused(await hospital.call("9002", {"signOut": {}}), "input.signOut.sign_no")
