"""The outpatient and pharmacy journeys over HTTP, every output field checked against the ledger."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import settlement_world
from yibao.enrolment import repository as enrolment_repository
from yibao.kernel.clock import china_today
from yibao.ledger import repository as ledger_repository
from yibao.ledger.tables import LedgerEntry
from yibao.notifications.tables import OutboxMessage
from yibao.runtime import Runtime
from yibao.settlement.tables import InterfaceMessage, Settlement, SettlementItem, YearlyAccumulation

FEES = [
    # feedetl_sn, code, pric, cnt, total
    ("1", "XA01ABD075A002010100483", "25.00", "2", "50.00"),  # 甲类: in scope
    ("2", "XC09AAD012A001010104291", "80.00", "1", "80.00"),  # 乙类: 5% (深圳) self-paid first
    ("3", "XN06AXA063A001010101005", "30.00", "1", "30.00"),  # 丙类: fully self-paid
    ("4", "001102000010000", "25.00", "1", "25.00"),  # capped at 20.00: 5.00 over the cap
    ("5", "ZZ9999999999", "12.00", "1", "12.00"),  # not in the catalogue: self-paid, warned
]


async def _entries(session: AsyncSession, account_id: int) -> list[LedgerEntry]:
    rows = await session.execute(
        select(LedgerEntry).where(LedgerEntry.account_id == account_id).order_by(LedgerEntry.id)
    )
    return list(rows.scalars())


async def test_outpatient_journey(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    w = await settlement_world.build(runtime, session, client, balance_fen=50000)
    hospital, person = w.hospital, w.person.person
    id_number = enrolment_repository.decrypt_id_number(runtime.cipher, person)
    await session.close()  # SQLite: hold no lock while the institution calls

    await hospital.sign_in()

    info = await hospital.call(
        "1101",
        {
            "data": {
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": id_number,
                "psn_cert_type": "01",
                "certno": id_number,
                "psn_name": "张伟",
            }
        },
    )
    assert info["infcode"] == 0, info
    assert info["output"]["baseinfo"]["psn_no"] == person.psn_no
    assert info["output"]["baseinfo"]["psn_name"] == "张伟"
    assert info["output"]["baseinfo"]["certno"] == person.id_number_masked
    [insu] = info["output"]["insuinfo"]
    assert insu == {
        "balc": "500.00",
        "insutype": "310",
        "psn_type": "1101",
        "psn_insu_stas": "1",
        "psn_insu_date": insu["psn_insu_date"],
        "insuplc_admdvs": "440300",
        "emp_name": "测试单位有限公司",
        "acct_stas": "active",
    }

    registered = await hospital.call(
        "2201",
        {
            "data": {
                "psn_no": person.psn_no,
                "insutype": "310",
                "begntime": "2026-11-25 09:00:00",
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": id_number,
                "ipt_otp_no": "MZ0001",
                "med_type": "11",
                "dept_code": "A03",
                "dept_name": "内科",
            }
        },
    )
    assert registered["infcode"] == 0, registered
    mdtrt_id = registered["output"]["data"]["mdtrt_id"]
    assert registered["output"]["data"]["ipt_otp_no"] == "MZ0001"

    uploaded = await hospital.call(
        "2204",
        {
            "feedetail": [
                {
                    "feedetl_sn": sn,
                    "mdtrt_id": mdtrt_id,
                    "psn_no": person.psn_no,
                    "med_list_codg": code,
                    "medins_list_codg": f"H{sn}",
                    "pric": pric,
                    "cnt": cnt,
                    "det_item_fee_sumamt": total,
                    "fee_ocur_time": "2026-11-25 09:10:00",
                }
                for sn, code, pric, cnt, total in FEES
            ]
        },
    )
    assert uploaded["infcode"] == 0, uploaded
    results = {r["feedetl_sn"]: r for r in uploaded["output"]["result"]}
    assert results["2"]["preselfpay_amt"] == "4.00" and results["2"]["inscp_scp_amt"] == "76.00"
    assert results["3"]["fulamt_ownpay_amt"] == "30.00" and results["3"]["chrgitm_lv"] == "03"
    assert results["4"]["overlmt_amt"] == "5.00" and results["4"]["inscp_scp_amt"] == "20.00"
    assert results["5"]["fulamt_ownpay_amt"] == "12.00"
    assert "ZZ9999999999" in uploaded["warn_msg"]

    bill = {
        "psn_no": person.psn_no,
        "mdtrt_cert_type": "02",
        "mdtrt_cert_no": id_number,
        "med_type": "11",
        "medfee_sumamt": "197.00",
        "psn_setlway": "01",
        "mdtrt_id": mdtrt_id,
        "chrg_bchno": "B0001",
        "insutype": "310",
        "acct_used_flag": "1",
    }
    expected = {
        "medfee_sumamt": "197.00",
        "fulamt_ownpay_amt": "42.00",
        "overlmt_selfpay": "5.00",
        "preselfpay_amt": "4.00",
        "inscp_scp_amt": "146.00",
        "act_pay_dedc": "0.00",
        "hifp_pay": "131.40",
        "fund_pay_sumamt": "131.40",
        "psn_part_amt": "65.60",
        "acct_pay": "65.60",
        "acct_mulaid_pay": "0.00",
        "psn_cash_pay": "0.00",
        "balc": "434.40",
    }
    pre = await hospital.call("2206", {"data": bill})
    assert pre["infcode"] == 0, pre
    assert {k: pre["output"]["setlinfo"][k] for k in expected} == expected
    assert "setl_id" not in pre["output"]["setlinfo"]
    account = await ledger_repository.account_for_person(session, person.id)
    assert account is not None
    assert account.balance_fen == 50000  # 2206 writes nothing
    await session.rollback()

    settled = await hospital.call("2207", {"data": bill})
    assert settled["infcode"] == 0, settled
    setlinfo = settled["output"]["setlinfo"]
    assert {k: setlinfo[k] for k in expected} == expected
    assert setlinfo["mdtrt_id"] == mdtrt_id and setlinfo["psn_no"] == person.psn_no
    assert settled["output"]["setldetail"] == [
        {
            "fund_pay_type": "310100",
            "fund_payamt": "131.40",
            "fund_pay_type_name": "职工基本医疗保险统筹基金",
        },
        {
            "fund_pay_type": "310200",
            "fund_payamt": "65.60",
            "fund_pay_type_name": "职工基本医疗保险个人账户",
        },
    ]
    setl_id = setlinfo["setl_id"]

    # The ledger says the same.
    await session.refresh(account)
    assert account.balance_fen == 43440
    entries = await _entries(session, account.id)
    debit = entries[-1]
    assert (debit.kind, debit.amount_fen, debit.balance_after_fen) == (
        "settlement_debit",
        -6560,
        43440,
    )
    assert (debit.source_type, debit.source_id) == ("settlement", setl_id)
    assert (debit.counterparty, debit.counterparty_code) == (hospital.name, hospital.code)
    assert debit.idempotency_key == f"setl:{setl_id}:own"
    row = (
        await session.execute(select(Settlement).where(Settlement.setl_id == setl_id))
    ).scalar_one()
    assert (row.acct_pay_fen, row.hifp_pay_fen, row.balc_fen, row.status) == (
        6560,
        13140,
        43440,
        "settled",
    )
    items = (
        (
            await session.execute(
                select(SettlementItem).where(SettlementItem.settlement_id == row.id)
            )
        )
        .scalars()
        .all()
    )
    assert sum(i.det_item_fee_sumamt_fen for i in items) == 19700
    notices = (
        (await session.execute(select(OutboxMessage).where(OutboxMessage.person_id == person.id)))
        .scalars()
        .all()
    )
    assert {m.channel for m in notices} == {"inapp", "sms"}
    assert all("65.60" in m.body and "434.40" in m.body for m in notices)
    await session.rollback()

    query = await hospital.call(
        "5203", {"data": {"psn_no": person.psn_no, "setl_id": setl_id, "mdtrt_id": mdtrt_id}}
    )
    assert query["infcode"] == 0, query
    assert {k: query["output"]["setlinfo"][k] for k in expected} == expected
    assert query["output"]["setlinfo"]["setl_stas"] == "1"
    assert len(query["output"]["feedetail"]) == 5

    cancelled = await hospital.call(
        "2208", {"data": {"setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": person.psn_no}}
    )
    assert cancelled["infcode"] == 0, cancelled
    out = cancelled["output"]["setlinfo"]
    assert (out["acct_pay"], out["medfee_sumamt"], out["balc"], out["setl_stas"]) == (
        "-65.60",
        "-197.00",
        "500.00",
        "0",
    )
    await session.refresh(account)
    assert account.balance_fen == 50000
    reversal = (await _entries(session, account.id))[-1]
    assert (reversal.kind, reversal.amount_fen, reversal.reverses_entry_id) == (
        "reversal",
        6560,
        debit.id,
    )
    await session.refresh(row)
    assert row.status == "cancelled"
    year = await session.get(YearlyAccumulation, (person.id, china_today(runtime.clock).year))
    assert year is not None
    await session.refresh(year)
    assert (year.deductible_used_fen, year.fund_paid_fen) == (0, 0)
    await session.rollback()

    again = await hospital.call(
        "2208", {"data": {"setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": person.psn_no}}
    )
    assert again["infcode"] == -1 and "已撤销" in again["err_msg"]


async def test_pharmacy_journey(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    w = await settlement_world.build(runtime, session, client, balance_fen=2000)
    pharmacy, person = w.pharmacy, w.person.person
    id_number = enrolment_repository.decrypt_id_number(runtime.cipher, person)
    await session.close()
    await pharmacy.sign_in()
    sale = {
        "druginfo": {
            "psn_no": person.psn_no,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": id_number,
            "med_type": "41",
            "medfee_sumamt": "60.00",
            "insutype": "310",
            "acct_used_flag": "1",
            "psn_setlway": "01",
        },
        "drugdetail": [
            {
                "feedetl_sn": "1",
                "med_list_codg": "XR05XAK122A001010101235",
                "pric": "15.00",
                "cnt": "2",
                "det_item_fee_sumamt": "30.00",
            },
            {
                "feedetl_sn": "2",
                "med_list_codg": "XA01ABD075A002010100483",
                "pric": "15.00",
                "cnt": "2",
                "det_item_fee_sumamt": "30.00",
            },
        ],
    }
    # 乙类 item with its own 20% share: 6.00 first; in scope 24.00 + 30.00 = 54.00; fund 90% = 48.60.
    expected = {
        "medfee_sumamt": "60.00",
        "preselfpay_amt": "6.00",
        "inscp_scp_amt": "54.00",
        "hifp_pay": "48.60",
        "psn_part_amt": "11.40",
        "acct_pay": "11.40",
        "psn_cash_pay": "0.00",
        "balc": "8.60",
    }
    pre = await pharmacy.call("2101", sale)
    assert pre["infcode"] == 0, pre
    assert {k: pre["output"]["setlinfo"][k] for k in expected} == expected
    msgid = pharmacy.new_msgid()
    settled = await pharmacy.call("2102", sale, msgid=msgid)
    assert settled["infcode"] == 0, settled
    assert {k: settled["output"]["setlinfo"][k] for k in expected} == expected
    # A retried msgid gets the first answer and settles nothing more.
    retried = await pharmacy.call("2102", sale, msgid=msgid)
    assert retried == settled
    account = await ledger_repository.account_for_person(session, person.id)
    assert account is not None
    assert account.balance_fen == 860
    await session.rollback()

    reversed_ = await pharmacy.call(
        "2601", {"data": {"psn_no": person.psn_no, "omsgid": msgid, "oinfno": "2102"}}
    )
    assert reversed_["infcode"] == 0, reversed_
    assert reversed_["output"]["data"]["rever_result"] == "settlement"
    assert reversed_["output"]["data"]["balc"] == "20.00"
    await session.refresh(account)
    assert account.balance_fen == 2000
    assert await ledger_repository.sum_of_entries(session, account.id) == 2000
    await session.rollback()
    # Reversing again finds nothing left to undo.
    twice = await pharmacy.call(
        "2601", {"data": {"psn_no": person.psn_no, "omsgid": msgid, "oinfno": "2102"}}
    )
    assert twice["infcode"] == 0 and twice["output"]["data"]["rever_result"] == "nothing"
    stored = (
        await session.execute(select(InterfaceMessage).where(InterfaceMessage.msgid == msgid))
    ).scalar_one()
    assert stored.infno == "2102"
