"""家庭共济 through the hook: an authoriser's account pays a relative's share, within its quota,
and a cancel gives it back."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import settlement_world
from yibao.enrolment import repository as enrolment_repository
from yibao.ledger.tables import LedgerEntry, PersonalAccount
from yibao.notifications.tables import OutboxMessage
from yibao.runtime import Runtime
from yibao.settlement import repository
from yibao.settlement.domain import MutualAidPayer
from yibao.settlement.tables import SettlementShare


async def test_an_authoriser_pays_a_relatives_share(
    runtime: Runtime,
    session: AsyncSession,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = await settlement_world.build(runtime, session, client, balance_fen=10_000)
    payer, patient = w.person.person, w.resident.person
    payer_account = w.person.account_id
    assert payer_account is not None
    id_number = enrolment_repository.decrypt_id_number(runtime.cipher, patient)
    payer_id, patient_id, psn_no = payer.id, patient.id, patient.psn_no
    await session.close()

    async def payers(_session: AsyncSession, beneficiary: int, on: date) -> list[MutualAidPayer]:
        if beneficiary != patient_id:
            return []
        return [
            MutualAidPayer(
                payer_id, payer_account, quota_remaining_fen=2_000, order=1, authorisation_id=7
            )
        ]

    monkeypatch.setattr(repository, "mutual_aid_payers", payers)
    pharmacy = w.pharmacy
    await pharmacy.sign_in()
    sale = {
        "druginfo": {
            "psn_no": psn_no,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": id_number,
            "medfee_sumamt": "30.00",
            "insutype": "390",
            "acct_used_flag": "1",
        },
        # 丙类: the whole 30.00 is the patient's share; the quota lets 20.00 of it be shared.
        "drugdetail": [
            {
                "feedetl_sn": "1",
                "med_list_codg": "XN06AXA063A001010101005",
                "pric": "30.00",
                "cnt": "1",
                "det_item_fee_sumamt": "30.00",
            }
        ],
    }
    settled = await pharmacy.call("2102", sale)
    assert settled["infcode"] == 0, settled
    info = settled["output"]["setlinfo"]
    assert (info["acct_pay"], info["acct_mulaid_pay"], info["psn_cash_pay"]) == (
        "0.00",
        "20.00",
        "10.00",
    )
    setl_id = info["setl_id"]

    async with runtime.sessions() as s:
        share = (await s.execute(select(SettlementShare))).scalar_one()
        assert (
            share.payer_person_id,
            share.beneficiary_person_id,
            share.amount_fen,
            share.authorisation_id,
        ) == (payer_id, patient_id, 2000, 7)
        entry = await s.get(LedgerEntry, share.ledger_entry_id)
        assert entry is not None
        assert (entry.kind, entry.amount_fen, entry.beneficiary_person_id) == (
            "mutual_aid_debit",
            -2000,
            patient_id,
        )
        assert entry.idempotency_key == f"setl:{setl_id}:aid:{payer_id}"
        account = await s.get(PersonalAccount, payer_account)
        assert account is not None and account.balance_fen == 8_000
        told = (
            (await s.execute(select(OutboxMessage).where(OutboxMessage.person_id == payer_id)))
            .scalars()
            .all()
        )
        assert {m.channel for m in told} == {"inapp", "sms"} and all(
            "家庭共济" in m.body for m in told
        )

    cancelled = await pharmacy.call("2103", {"data": {"setl_id": setl_id, "psn_no": psn_no}})
    assert cancelled["infcode"] == 0, cancelled
    assert cancelled["output"]["setlinfo"]["acct_mulaid_pay"] == "-20.00"
    async with runtime.sessions() as s:
        account = await s.get(PersonalAccount, payer_account)
        assert account is not None and account.balance_fen == 10_000
