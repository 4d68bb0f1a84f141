"""Claims and disputes beside real settlements: one yearly accumulation, the settlement's details."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import settlement_world
from tests.support.documents import jpeg_with_exif
from yibao.claims.domain import ClaimDraft, StaffActor
from yibao.claims.service import claims, disputes
from yibao.enrolment import repository as enrolment_repository
from yibao.kernel.clock import china_today, to_china
from yibao.kernel.uploads import DocumentStore
from yibao.ledger import repository as ledger_repository
from yibao.runtime import Runtime
from yibao.settlement import repository as settlement_repository

REVIEWER = StaffActor(5, "李审核", frozenset({"reviewer"}), "南山区医保中心")


async def _pharmacy_sale(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> tuple[int, str]:
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
            },
        ],
    }
    settled = await pharmacy.call("2102", sale)
    assert settled["infcode"] == 0, settled
    return person.id, settled["output"]["setlinfo"]["setl_id"]


async def test_claim_adds_to_the_same_yearly_accumulation(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    person_id, _ = await _pharmacy_sale(runtime, session, client)
    year = to_china(runtime.clock.now()).year
    async with runtime.sessions() as s:
        before = await settlement_repository.year_to_date(s, person_id, year)
        assert before is not None and before.fund_paid_fen == 2_700  # 90% of 30.00 in Shenzhen
    today = china_today(runtime.clock)
    async with runtime.sessions() as s:
        claim = await claims.submit_claim(
            s,
            DocumentStore(runtime.settings.var_dir / "uploads"),
            runtime.clock,
            person_id=person_id,
            request_key="with-settlement-1",
            draft=ClaimDraft(
                "北京协和医院",
                None,
                "13",
                today - timedelta(days=1),
                today - timedelta(days=1),
                100_000,
                0,
                "急性肠胃炎",
                "no_card",
            ),
            uploads=[claims.Upload("invoice", "a.jpg", jpeg_with_exif())],
            max_bytes=1_000_000,
        )
    async with runtime.sessions() as s:
        await claims.start_review(s, runtime.clock, REVIEWER, claim.id)
    async with runtime.sessions() as s:
        approved = await claims.approve_claim(
            s,
            runtime.clock,
            REVIEWER,
            claim.id,
            fulamt_ownpay_amt_fen=0,
            overlmt_selfpay_fen=0,
            preselfpay_amt_fen=0,
        )
    assert approved.hifp_pay_fen == 90_000
    async with runtime.sessions() as s:
        after = await settlement_repository.year_to_date(s, person_id, today.year)
        assert after is not None and after.fund_paid_fen == 2_700 + 90_000


async def test_dispute_carries_the_settlements_details(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    person_id, setl_id = await _pharmacy_sale(runtime, session, client)
    async with runtime.sessions() as s:
        account = await ledger_repository.account_for_person(s, person_id)
        assert account is not None
        entry = (await ledger_repository.entries_page(s, account.id, limit=1))[0]
    async with runtime.sessions() as s:
        case = await disputes.dispute_entry(
            s,
            runtime.clock,
            person_id=person_id,
            entry_id=entry.id,
            statement="不是我买的",
            freeze=False,
        )
    details = json.loads(case.details_json)
    assert details["setl_id"] == setl_id and details["fixmedins_name"] == "深圳南山大药房"
    assert (details["medfee_sumamt"], details["hifp_pay"], details["acct_pay"]) == (
        "30.00",
        "27.00",
        "3.00",
    )
