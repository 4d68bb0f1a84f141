"""3201 对总账 and 3202 对明细账 over HTTP on both databases.

A pharmacy settles three sales and cancels one; its totals match, a wrong count does not and the
description says which figure; a detail file missing one settlement, with another's amounts
wrong and one yibao never made gets a result file with each line; the next 3202 listing the
missing one confirms it, once. Bad input names its field and keeps nothing.
"""

from __future__ import annotations

import base64
import io
import zipfile
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import settlement_world
from tests.support.fsi import Institution
from yibao.enrolment import repository as enrolment_repository
from yibao.kernel.clock import china_today
from yibao.runtime import Runtime
from yibao.settlement.tables import (
    Reconciliation,
    ReconciliationDifference,
    SettlementConfirmation,
)


def _sale(psn_no: str, id_number: str) -> dict[str, Any]:
    return {
        "druginfo": {
            "psn_no": psn_no,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": id_number,
            "med_type": "41",
            "medfee_sumamt": "30.00",
            "insutype": "310",
            "acct_used_flag": "1",
            "psn_setlway": "01",
        },
        "drugdetail": [
            {
                "feedetl_sn": "1",
                "med_list_codg": "XA01ABD075A002010100483",
                "pric": "15.00",
                "cnt": "2",
                "det_item_fee_sumamt": "30.00",
            }
        ],
    }


class Scene:
    def __init__(
        self, runtime: Runtime, pharmacy: Institution, hospital: Institution, psn_no: str
    ) -> None:
        self.runtime, self.pharmacy, self.hospital, self.psn_no = (
            runtime,
            pharmacy,
            hospital,
            psn_no,
        )
        self.today = f"{china_today(runtime.clock):%Y-%m-%d}"
        self.settled: list[dict[str, str]] = []  # setlinfo of each standing settlement

    def period(self, **more: Any) -> dict[str, Any]:
        return {"stmt_begndate": self.today, "stmt_enddate": self.today, **more}

    async def totals(self, **figures: Any) -> dict[str, Any]:
        data = self.period(insutype="310", clr_type="41", setl_optins="440300", **figures)
        return await self.pharmacy.call("3201", {"data": data})

    async def upload(self, lines: list[list[str]]) -> str:
        text = "".join("\t".join(line) + "\n" for line in lines).encode()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("detail.txt", text)
        answer = await self.pharmacy.call(
            "9101",
            {
                "fsUploadIn": {
                    "filename": "detail.txt.zip",
                    "in": base64.b64encode(buffer.getvalue()).decode(),
                }
            },
        )
        assert answer["infcode"] == 0, answer
        return str(answer["output"]["file_qury_no"])

    async def details(self, lines: list[list[str]], **override: Any) -> dict[str, Any]:
        file_qury_no = await self.upload(lines)
        refunded = {line[0] for line in lines if len(line) == 7 and line[6] == "1"}
        standing = [
            line for line in lines if (len(line) < 7 or line[6] == "0") and line[0] not in refunded
        ]
        cnt = len(standing)
        medfee = sum(_fen(line[3]) for line in standing)
        fund = sum(_fen(line[4]) for line in standing)
        data = self.period(
            setl_optins="440300",
            file_qury_no=file_qury_no,
            fixmedins_setl_cnt=cnt,
            medfee_sumamt=f"{medfee / 100:.2f}",
            fund_pay_sumamt=f"{fund / 100:.2f}",
            cash_payamt="0.00",
        )
        data.update(override)
        return await self.pharmacy.call("3202", {"data": data})

    async def result_lines(self, file_qury_no: str) -> list[list[str]]:
        response = await self.pharmacy.post(
            "9102", {"fsDownloadIn": {"file_qury_no": file_qury_no}}
        )
        assert response.headers["content-type"] == "application/octet-stream", response.text
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            text = archive.read(archive.namelist()[0]).decode()
        return [line.split("\t") for line in text.splitlines()]


def _fen(text: str) -> int:
    digits = text.replace(".", "")
    return int(digits) if digits.isdigit() else 0  # a bad amount is the file's problem


def line_of(setlinfo: dict[str, str]) -> list[str]:
    return [
        setlinfo["setl_id"],
        setlinfo["mdtrt_id"],
        setlinfo["psn_no"],
        setlinfo["medfee_sumamt"],
        setlinfo["fund_pay_sumamt"],
        setlinfo["acct_pay"],
    ]


@pytest.fixture
async def scene(runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient) -> Scene:
    w = await settlement_world.build(runtime, session, client)
    person = w.person.person
    id_number = enrolment_repository.decrypt_id_number(runtime.cipher, person)
    await session.close()
    s = Scene(runtime, w.pharmacy, w.hospital, person.psn_no)
    await w.pharmacy.sign_in()
    for _ in range(3):
        answer = await w.pharmacy.call("2102", _sale(person.psn_no, id_number))
        assert answer["infcode"] == 0, answer
        s.settled.append(answer["output"]["setlinfo"])
    cancelled = s.settled.pop()
    answer = await w.pharmacy.call(
        "2103", {"data": {"setl_id": cancelled["setl_id"], "psn_no": person.psn_no}}
    )
    assert answer["infcode"] == 0, answer
    return s


async def _kept(runtime: Runtime) -> int:
    async with runtime.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(Reconciliation)) or 0)


async def test_totals_match_and_mismatch_name_the_figure(scene: Scene, runtime: Runtime) -> None:
    fund = sum(int(s["fund_pay_sumamt"].replace(".", "")) for s in scene.settled)
    acct = sum(int(s["acct_pay"].replace(".", "")) for s in scene.settled)
    right = {
        "fixmedins_setl_cnt": 2,
        "medfee_sumamt": "60.00",
        "fund_pay_sumamt": f"{fund / 100:.2f}",
        "acct_pay": f"{acct / 100:.2f}",
    }
    answer = await scene.totals(**right)
    assert answer["infcode"] == 0, answer
    info = answer["output"]["stmtinfo"]
    assert info["stmt_rslt"] == "0" and info["setl_optins"] == "440300", info
    assert "对账一致" in info["stmt_rslt_dscr"]

    # The cancelled sale counts nowhere: an HIS that kept it sees which figure differs.
    wrong = {**right, "fixmedins_setl_cnt": "3", "medfee_sumamt": "90.00"}
    answer = await scene.totals(**wrong)
    info = answer["output"]["stmtinfo"]
    assert info["stmt_rslt"] == "1", info
    assert "结算笔数（fixmedins_setl_cnt）本机构 3 笔，医保 2 笔" in info["stmt_rslt_dscr"]
    assert "医疗费总额（medfee_sumamt）本机构 90.00 元，医保 60.00 元" in info["stmt_rslt_dscr"]

    # Another settlement class (住院) has nothing of this pharmacy's.
    other = await scene.pharmacy.call(
        "3201",
        {"data": scene.period(insutype="310", clr_type="21", **right)},
    )
    assert other["output"]["stmtinfo"]["stmt_rslt"] == "1"

    async with runtime.sessions() as s:
        rows = list((await s.execute(select(Reconciliation).order_by(Reconciliation.id))).scalars())
    assert [(r.kind, r.result, r.our_cnt, r.their_cnt) for r in rows] == [
        ("totals", "match", 2, 2),
        ("totals", "mismatch", 2, 3),
        ("totals", "mismatch", 0, 2),
    ]
    assert rows[0].our_medfee_fen == 6000 and rows[0].opter_name == "收费员"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"insutype": "999"}, "input.data.insutype"),
        ({"clr_type": "99"}, "input.data.clr_type"),
        ({"stmt_begndate": "2026-13-01"}, "input.data.stmt_begndate"),
        ({"stmt_begndate": "2099-01-02", "stmt_enddate": "2099-01-01"}, "stmt_enddate"),
        ({"fixmedins_setl_cnt": "-1"}, "input.data.fixmedins_setl_cnt"),
        ({"acct_pay": "1.001"}, "input.data.acct_pay"),
    ],
)
async def test_bad_totals_name_the_field_and_keep_nothing(
    scene: Scene, runtime: Runtime, change: dict[str, str], named: str
) -> None:
    data = {
        **scene.period(insutype="310", clr_type="41"),
        "fixmedins_setl_cnt": "2",
        "medfee_sumamt": "60.00",
        "fund_pay_sumamt": "1.00",
        "acct_pay": "1.00",
        **change,
    }
    answer = await scene.pharmacy.call("3201", {"data": data})
    assert answer["infcode"] == -1 and named in answer["err_msg"], answer
    assert await _kept(runtime) == 0


async def test_details_list_each_difference_then_confirm_the_missing_one(
    scene: Scene, runtime: Runtime
) -> None:
    first, second = scene.settled
    wrong = line_of(second)
    wrong[3] = "31.00"  # the institution kept another bill total
    stranger = ["S_NOT_AT_YIBAO_0001", "M_X", scene.psn_no, "5.00", "0.00", "5.00"]
    answer = await scene.details([wrong, stranger])
    assert answer["infcode"] == 0, answer
    output = answer["output"]
    assert output["stmtinfo"]["stmt_rslt"] == "1"
    assert output["stmtinfo"]["diff_cnt"] == 3
    kinds = {d["setl_id"]: d["stmt_rslt"] for d in output["detail"]}
    assert kinds == {first["setl_id"]: "1", second["setl_id"]: "3", stranger[0]: "2"}
    only_here = next(d for d in output["detail"] if d["setl_id"] == first["setl_id"])
    assert only_here["msgid"] and only_here["medfee_sumamt"] == "30.00"
    assert "2601" in only_here["memo"]

    lines = await scene.result_lines(output["fileinfo"]["file_qury_no"])
    assert sorted((line[2], line[4]) for line in lines) == sorted(kinds.items())
    by_id = {line[2]: line for line in lines}
    assert by_id[second["setl_id"]][7] == "30.00" and by_id[second["setl_id"]][10] == "31.00"

    # The institution queries the missing one (5203), books it, and reconciles again: all match
    # and the settlement whose answer it never had is confirmed, once.
    again = await scene.details([line_of(first), line_of(second)])
    assert again["output"]["stmtinfo"]["stmt_rslt"] == "0", again
    assert again["output"]["confirmed"] == [first["setl_id"]]
    once_more = await scene.details([line_of(first), line_of(second)])
    assert once_more["output"]["confirmed"] == []
    async with runtime.sessions() as s:
        confirmed = list((await s.execute(select(SettlementConfirmation))).scalars())
        differences = await s.scalar(select(func.count()).select_from(ReconciliationDifference))
    assert [c.setl_id for c in confirmed] == [first["setl_id"]]
    assert differences == 3


async def test_a_settlement_and_its_refund_line_drop_out(scene: Scene) -> None:
    first, second = scene.settled
    refund = [*line_of(second), "1"]
    answer = await scene.details([line_of(first), [*line_of(second), "0"], refund])
    assert answer["infcode"] == 0, answer
    assert [d["setl_id"] for d in answer["output"]["detail"]] == [second["setl_id"]]


async def test_bad_details_name_the_field_and_keep_nothing(scene: Scene, runtime: Runtime) -> None:
    first, _ = scene.settled
    answer = await scene.details([line_of(first)], fixmedins_setl_cnt=5)
    assert answer["infcode"] == -1 and "fixmedins_setl_cnt 与明细文件不符" in answer["err_msg"]
    answer = await scene.details([[first["setl_id"], "M", "P", "abc", "0", "0"]])
    assert answer["infcode"] == -1 and "第1行 medfee_sumamt" in answer["err_msg"], answer
    answer = await scene.pharmacy.call(
        "3202", {"data": scene.period(file_qury_no="nope", fixmedins_setl_cnt=0,
                                      medfee_sumamt="0", fund_pay_sumamt="0")}
    )  # fmt: skip
    assert answer["infcode"] == -1 and "file_qury_no" in answer["err_msg"], answer
    assert await _kept(runtime) == 0


async def test_another_institution_cannot_use_the_file(scene: Scene, runtime: Runtime) -> None:
    file_qury_no = await scene.upload([line_of(scene.settled[0])])
    data = scene.period(
        file_qury_no=file_qury_no,
        fixmedins_setl_cnt=1,
        medfee_sumamt="30.00",
        fund_pay_sumamt=scene.settled[0]["fund_pay_sumamt"],
    )
    answer = await scene.hospital.call("3202", {"data": data})
    assert answer["infcode"] == -1 and "本机构文件" in answer["err_msg"], answer
    assert await _kept(runtime) == 0
    mine = await scene.pharmacy.call("3202", {"data": data})
    assert mine["infcode"] == 0 and mine["output"]["stmtinfo"]["stmt_rslt"] == "1", mine
