"""异地就医 between two deployments on two databases, PostgreSQL and SQLite (docs/cross-region.md).

A person insured in A (深圳, 440300) with a 备案 to B (上海, 310000) buys at B's pharmacy and is
treated at B's hospital through its whole outpatient flow (2001, 2201, 2203, 2204, 2206, 2207,
5203; a 2205 and a 2202 on another visit, a 2601 of a third's 2201); both settlements show in A's 消费记录 with their place and region; a 2601 and a 2208
at B give A's account back; a retried msgid pays once; A down is a clear refusal; a debit B never
recorded is reversed by the day's reconciliation; the month's clearing adds up on both sides.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.two_regions import (
    HOME,
    TREATMENT,
    Deployments,
    balance,
    deployments,
    drug_sale,
    fee_lines,
    file_filing,
    hospital_bill,
    registration,
    visit_info,
)
from yibao.crossregion import service as crossregion
from yibao.crossregion.domain import UnfiledRule
from yibao.crossregion.signing import Signer
from yibao.kernel.clock import china_today
from yibao.statements import service as statements
from yibao.statements.domain import parse_consumption_filter


async def test_settles_at_b_and_is_undone(databases: tuple[str, str], tmp_path: Path) -> None:
    async with deployments(*databases, tmp_path) as d:
        await file_filing(d)
        opening = await balance(d)
        pharmacy, hospital = d.pharmacy, d.hospital

        # 1101 at B: A answers who holds the ID number, with A's balance.
        info = await pharmacy.call(
            "1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": d.id_number}}
        )
        assert info["infcode"] == 0, info
        assert info["output"]["baseinfo"]["psn_no"] == d.person.person.psn_no
        assert info["output"]["insuinfo"][0]["insuplc_admdvs"] == HOME
        assert info["output"]["insuinfo"][0]["balc"] == "500.00"
        assert "123" not in info["output"]["baseinfo"]["certno"][3:-4]  # masked
        certno = info["output"]["baseinfo"]["certno"]

        # 2101 pre-settles (A assesses, nothing moves), 2102 settles.
        pre = await pharmacy.call("2101", drug_sale(d))
        assert pre["infcode"] == 0, pre
        assert await balance(d) == opening
        await pharmacy.sign_in()
        msgid = pharmacy.new_msgid()
        sold = await pharmacy.call("2102", drug_sale(d), msgid=msgid)
        assert sold["infcode"] == 0, sold
        info_sold = sold["output"]["setlinfo"]
        # 甲类 drug, 深圳 policy: no deductible, 90 % from the fund, the rest from the account.
        assert info_sold["medfee_sumamt"] == "25.00"
        assert info_sold["fund_pay_sumamt"] == "22.50"
        assert info_sold["acct_pay"] == "2.50"
        assert info_sold["insuplc_admdvs"] == HOME
        assert await balance(d) == opening - 250
        # The same msgid again: the same answer, one debit.
        again = await pharmacy.call("2102", drug_sale(d), msgid=msgid)
        assert again["output"]["setlinfo"]["setl_id"] == info_sold["setl_id"]
        assert await balance(d) == opening - 250

        # The hospital's outpatient flow: 2001 before, 2201, 2203, 2204, 2206, 2207, 5203 after.
        await hospital.sign_in()
        psn_no = d.person.person.psn_no
        checked = await hospital.call(
            "2001",
            {
                "data": {
                    "psn_no": psn_no,
                    "insutype": "310",
                    "med_type": "11",
                    "begntime": "2026-12-07 09:00:00",
                }
            },
        )
        assert checked["infcode"] == 0, checked
        trtinfo = checked["output"]["trtinfo"]
        assert [(r["fund_pay_type"], r["trt_enjymnt_flag"]) for r in trtinfo] == [
            ("310100", "1"),
            ("310200", "1"),
        ]
        visit = await hospital.call("2201", registration(d))
        assert visit["infcode"] == 0, visit
        mdtrt_id = visit["output"]["data"]["mdtrt_id"]
        info = await hospital.call("2203", visit_info(d, mdtrt_id, 1, 2))
        assert info["infcode"] == 0, info
        fees = await hospital.call("2204", fee_lines(d, mdtrt_id, ("F1", "B1")))
        assert fees["infcode"] == 0, fees
        assert fees["output"]["result"][0]["overlmt_amt"] == "10.00"  # B's cap of 20.00
        bill = hospital_bill(d, mdtrt_id, "30.00")
        pre = await hospital.call("2206", bill)
        assert pre["infcode"] == 0, pre
        settled = await hospital.call("2207", bill)
        assert settled["infcode"] == 0, settled
        hospital_setl = settled["output"]["setlinfo"]
        # 20.00 in scope at 90 %, 10.00 over the cap: account pays 12.00.
        assert hospital_setl["fund_pay_sumamt"] == "18.00"
        assert hospital_setl["acct_pay"] == "12.00"
        assert await balance(d) == opening - 250 - 1200

        # 5203 at B answers from B's own record, with the in-region answer's fields.
        queried = await hospital.call(
            "5203", {"data": {"setl_id": hospital_setl["setl_id"], "psn_no": psn_no}}
        )
        assert queried["infcode"] == 0, queried
        found = queried["output"]
        assert found["setlinfo"]["setl_stas"] == "1"
        assert found["setlinfo"]["mdtrt_id"] == mdtrt_id
        assert found["setlinfo"]["certno"] == certno
        assert found["setlinfo"]["gend"] and found["setlinfo"]["brdy"]
        for name in ("medfee_sumamt", "fund_pay_sumamt", "acct_pay", "psn_cash_pay", "balc"):
            assert found["setlinfo"][name] == hospital_setl[name], name
        assert [r["fund_pay_type"] for r in found["setldetail"]] == ["310100", "310200"]
        assert [(r["feedetl_sn"], r["overlmt_amt"]) for r in found["feedetail"]] == [
            ("F1", "10.00")
        ]
        sale = await pharmacy.call(
            "5203", {"data": {"setl_id": info_sold["setl_id"], "psn_no": psn_no}}
        )
        assert sale["infcode"] == 0, sale
        assert sale["output"]["setlinfo"]["acct_pay"] == "2.50"

        # Another visit, and the patient changes their mind: one charge batch is withdrawn
        # (2205), then the registration (2202). Nothing reaches A.
        other = await hospital.call("2201", registration(d))
        other_id = other["output"]["data"]["mdtrt_id"]
        uploaded = await hospital.call("2204", fee_lines(d, other_id, ("G1", "B1"), ("G2", "B2")))
        assert uploaded["infcode"] == 0, uploaded
        withdrawn = await hospital.call(
            "2205", {"data": {"mdtrt_id": other_id, "chrg_bchno": "B1", "psn_no": psn_no}}
        )
        assert withdrawn["infcode"] == 0, withdrawn
        assert withdrawn["output"]["data"]["cnt"] == 1
        gone = await hospital.call(
            "2202", {"data": {"mdtrt_id": other_id, "psn_no": psn_no, "ipt_otp_no": "O2"}}
        )
        assert gone["infcode"] == 0, gone
        late_bill = await hospital.call("2207", hospital_bill(d, other_id, "30.00"))
        assert late_bill["infcode"] == -1 and "已撤销" in late_bill["err_msg"]

        # A third, registered by mistake: 2601 of its 2201 cancels it as 2202 does.
        mistaken = hospital.new_msgid()
        third = await hospital.call("2201", registration(d), msgid=mistaken)
        third_id = third["output"]["data"]["mdtrt_id"]
        reversed_visit = await hospital.call(
            "2601", {"data": {"psn_no": psn_no, "omsgid": mistaken, "oinfno": "2201"}}
        )
        assert reversed_visit["infcode"] == 0, reversed_visit
        assert reversed_visit["output"]["data"]["rever_result"] == "visit"
        closed = await hospital.call("2204", fee_lines(d, third_id, ("H1", "B1")))
        assert closed["infcode"] == -1 and "已撤销" in closed["err_msg"]
        assert await balance(d) == opening - 250 - 1200

        # A's 消费记录 shows both, with B's place and region.
        async with d.a.sessions() as session:
            page = await statements.consumption_page(
                session,
                d.a.clock,
                d.person.person.id,
                parse_consumption_filter(
                    since=None,
                    until=None,
                    kind=None,
                    institution=None,
                    scope=None,
                    today=china_today(d.a.clock),
                ),
                cursor=None,
                limit=20,
            )
        places = {(r.institution_code, r.institution_name) for r in page.records}
        assert ("P31010400631", "上海徐汇大药房（异地·上海市）") in places
        assert ("H31010400012", "上海市徐汇区中心医院（异地·上海市）") in places

        # 2601 at B undoes the pharmacy sale; 2208 the hospital's: A is back where it began.
        undone = await pharmacy.call(
            "2601",
            {"data": {"psn_no": d.person.person.psn_no, "omsgid": msgid, "oinfno": "2102"}},
        )
        assert undone["infcode"] == 0, undone
        assert undone["output"]["data"]["rever_result"] == "settlement"
        assert await balance(d) == opening - 1200
        cancelled = await hospital.call(
            "2208",
            {
                "data": {
                    "setl_id": hospital_setl["setl_id"],
                    "mdtrt_id": mdtrt_id,
                    "psn_no": d.person.person.psn_no,
                }
            },
        )
        assert cancelled["infcode"] == 0, cancelled
        assert await balance(d) == opening
        # The reversed sale's msgid sent again is refused: it never pays twice.
        late = await pharmacy.call("2102", drug_sale(d), msgid=msgid)
        assert await balance(d) == opening
        assert late["infcode"] == 0 or "冲正" in late["err_msg"]

        # Clearing: nothing settled stays; both sides agree on zero.
        month = china_today(d.b.clock).strftime("%Y-%m")
        statement = await crossregion.clearing(
            d.b, crossregion.link_of(d.b), TREATMENT, HOME, month
        )
        assert statement.agrees, statement


async def test_refusals_and_reconciliation(databases: tuple[str, str], tmp_path: Path) -> None:
    async with deployments(*databases, tmp_path) as d:
        opening = await balance(d)
        pharmacy = d.pharmacy
        await pharmacy.sign_in()

        # No 备案, and A's rule refuses: a clear err_msg, nothing moves.
        refused = await pharmacy.call("2102", drug_sale(d))
        assert refused["infcode"] == -1
        assert "备案" in refused["err_msg"]
        assert await balance(d) == opening

        # A's region allows it at a lower ratio (90 % - 20 %).
        async with d.a.sessions() as session:
            await crossregion.set_home_rule(session, HOME, UnfiledRule.LOWER_RATIO, 2000)
        lower = await pharmacy.call("2102", drug_sale(d))
        assert lower["infcode"] == 0, lower
        assert lower["output"]["setlinfo"]["fund_pay_sumamt"] == "17.50"
        assert "备案" in (lower["warn_msg"] or "")
        assert await balance(d) == opening - 750

        # A down: B refuses plainly and records nothing.
        class Down(httpx.AsyncBaseTransport):
            async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
                raise httpx.ConnectError("connection refused")

        working = d.b.peer_link
        d.b.peer_link = d.link_for_b(Down())
        down = await pharmacy.call("2102", drug_sale(d))
        assert down["infcode"] == -1
        assert "无法连接" in down["err_msg"] and "未结算" in down["err_msg"]
        d.b.peer_link = working

        # The peer API: a stranger's key, a replayed nonce and a stale timestamp are refused.
        body = b'{"treatment_admdvs": "310000", "home_admdvs": "440300"}'
        stranger = Signer("shanghai", secrets.token_bytes(32)).headers(
            "policy", int(time.time()), body
        )
        bad = await d.a_http.post("/peer/v1/policy", content=body, headers=stranger)
        assert bad.status_code == 401
        signer = Signer("shanghai", d.b.settings.peer_key_bytes())
        good = signer.headers("policy", int(time.time()), body)
        assert (
            await d.a_http.post("/peer/v1/policy", content=body, headers=good)
        ).status_code == 200
        replay = await d.a_http.post("/peer/v1/policy", content=body, headers=good)
        assert replay.status_code == 401
        stale = signer.headers("policy", int(time.time()) - 3600, body)
        assert (
            await d.a_http.post("/peer/v1/policy", content=body, headers=stale)
        ).status_code == 401
        other_kind = signer.headers("settle", int(time.time()), body)
        assert (
            await d.a_http.post("/peer/v1/policy", content=body, headers=other_kind)
        ).status_code == 401

        # B "crashes" after A debited: A holds a claim B never recorded.
        link = crossregion.link_of(d.b)
        peer = await _peer(d)
        await link.send(
            peer,
            "settle",
            {
                "message_id": "shanghai:LOST0001",
                "treatment_admdvs": TREATMENT,
                "setl_id": "SLOST0001",
                "psn_no": d.person.person.psn_no,
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": d.id_number,
                "insutype": "310",
                "med_type": "41",
                "acct_used_flag": True,
                "fixmedins_code": "P31010400631",
                "fixmedins_name": "上海徐汇大药房",
                "lines": [
                    {
                        "chrgitm_lv": "01",
                        "fulamt_ownpay_fen": 0,
                        "overlmt_selfpay_fen": 0,
                        "preselfpay_fen": 0,
                        "inscp_scp_fen": 2500,
                    }
                ],
            },
        )
        assert await balance(d) == opening - 750 - 750
        today = china_today(d.b.clock)
        first = await crossregion.reconcile(d.b, link, TREATMENT, today)
        assert [x["message_id"] for r in first for x in r.differences] == ["shanghai:LOST0001"]
        assert await balance(d) == opening - 750
        second = await crossregion.reconcile(d.b, link, TREATMENT, today)
        assert [x for r in second for x in r.differences] == []

        statement = await crossregion.clearing(d.b, link, TREATMENT, HOME, today.strftime("%Y-%m"))
        assert statement.agrees, statement
        assert statement.here.count == 1 and statement.here.acct_pay_fen == 750
        assert statement.here.fund_pay_fen == 1750


async def _peer(d: Deployments) -> Any:
    async with d.b.sessions() as session:
        return await crossregion.home_peer(session, HOME)
