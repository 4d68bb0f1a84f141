"""家庭共济 through the interface, with the real payer lookup (family.repository.payers_for): an
authoriser's account pays a relative's share within the authorised yearly quota, and a
settlement cancelled by 2103, 2208 or 2601 gives both the money and the quota back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import family as family_support
from tests.support import settlement_world
from yibao.enrolment import repository as enrolment_repository
from yibao.family import service as family
from yibao.ledger.tables import LedgerEntry, PersonalAccount
from yibao.notifications.tables import OutboxMessage
from yibao.runtime import Runtime
from yibao.settlement.tables import SettlementShare

QUOTA_FEN = 2_000
DRUG = "XN06AXA063A001010101005"  # 丙类: the whole amount is the patient's share


@dataclass
class Aid:
    runtime: Runtime
    w: settlement_world.World
    payer: family_support.Member
    patient: family_support.Member
    authorisation_id: int

    async def quota(self) -> tuple[int, int | None]:
        """(used this year, remaining) as the authoriser's 家庭共济 page shows them."""
        async with self.runtime.sessions() as s:
            lines = await family.family_page(s, self.runtime.clock, self.payer.person_id)
        (line,) = [x for x in lines if x.authorisation_id == self.authorisation_id]
        return line.used_fen, line.remaining_fen

    async def balance(self) -> int:
        async with self.runtime.sessions() as s:
            account = await s.get(PersonalAccount, self.payer.account_id)
            assert account is not None
            return account.balance_fen

    def certificate(self) -> dict[str, str]:
        return {
            "psn_no": self.patient.psn_no,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": self.patient.id_number,
        }

    def line(self, **more: str) -> dict[str, str]:
        return {
            "feedetl_sn": "1",
            "med_list_codg": DRUG,
            "pric": "30.00",
            "cnt": "1",
            "det_item_fee_sumamt": "30.00",
            **more,
        }

    async def buy(self, msgid: str | None = None) -> dict[str, Any]:
        """A 30.00 sale at the pharmacy (2102), the patient's account flag set."""
        sale = {
            "druginfo": {
                **self.certificate(),
                "medfee_sumamt": "30.00",
                "insutype": "390",
                "acct_used_flag": "1",
            },
            "drugdetail": [self.line()],
        }
        answer = await self.w.pharmacy.call("2102", sale, msgid=msgid)
        assert answer["infcode"] == 0, answer
        return answer

    async def visit(self, msgid: str | None = None) -> dict[str, Any]:
        """A 30.00 outpatient visit at the hospital: 2201, 2204, 2207."""
        hospital = self.w.hospital
        reg = await hospital.call("2201", {"data": {**self.certificate(), "insutype": "390"}})
        assert reg["infcode"] == 0, reg
        mdtrt_id = reg["output"]["data"]["mdtrt_id"]
        line = self.line(mdtrt_id=mdtrt_id, psn_no=self.patient.psn_no)
        assert (await hospital.call("2204", {"feedetail": [line]}))["infcode"] == 0
        bill = {
            **self.certificate(),
            "med_type": "11",
            "medfee_sumamt": "30.00",
            "mdtrt_id": mdtrt_id,
            "insutype": "390",
            "acct_used_flag": "1",
        }
        answer = await hospital.call("2207", {"data": bill}, msgid=msgid)
        assert answer["infcode"] == 0, answer
        return answer


@pytest.fixture
async def aid(runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient) -> Aid:
    w = await settlement_world.build(runtime, session, client, balance_fen=10_000)
    employee = w.person.person
    payer = family_support.Member(
        employee.id,
        employee.name,
        enrolment_repository.decrypt_id_number(runtime.cipher, employee),
        employee.psn_no,
        w.person.account_id,
    )
    await session.close()
    patient = await family_support.member(
        runtime, "王建国", admdvs="440300", district="440305", birth=date(1955, 3, 2)
    )
    authorisation_id = await family_support.open_aid(runtime, payer, patient)
    async with runtime.sessions() as s:
        await family.change_quota(s, runtime.clock, payer.person_id, authorisation_id, QUOTA_FEN)
    await w.pharmacy.sign_in()
    await w.hospital.sign_in()
    return Aid(runtime, w, payer, patient, authorisation_id)


def _split(answer: dict[str, Any]) -> tuple[str, str, str]:
    info = answer["output"]["setlinfo"]
    return info["acct_pay"], info["acct_mulaid_pay"], info["psn_cash_pay"]


async def test_an_authoriser_pays_a_relatives_share_within_the_quota(aid: Aid) -> None:
    assert await aid.quota() == (0, QUOTA_FEN)
    settled = await aid.buy()
    # The quota lets 20.00 of the 30.00 be shared; the rest is cash.
    assert _split(settled) == ("0.00", "20.00", "10.00")
    setl_id = settled["output"]["setlinfo"]["setl_id"]
    assert await aid.quota() == (QUOTA_FEN, 0)
    payer_id, patient_id = aid.payer.person_id, aid.patient.person_id

    async with aid.runtime.sessions() as s:
        share = (await s.execute(select(SettlementShare))).scalar_one()
        assert (
            share.payer_person_id,
            share.beneficiary_person_id,
            share.amount_fen,
            share.authorisation_id,
        ) == (payer_id, patient_id, QUOTA_FEN, aid.authorisation_id)
        entry = await s.get(LedgerEntry, share.ledger_entry_id)
        assert entry is not None
        assert (entry.kind, entry.amount_fen, entry.beneficiary_person_id) == (
            "mutual_aid_debit",
            -QUOTA_FEN,
            patient_id,
        )
        assert entry.idempotency_key == f"setl:{setl_id}:aid:{payer_id}"
        told = (
            (await s.execute(select(OutboxMessage).where(OutboxMessage.person_id == payer_id)))
            .scalars()
            .all()
        )
        assert {m.channel for m in told} == {"inapp", "sms"} and all(
            "家庭共济" in m.body for m in told
        )
    assert await aid.balance() == 8_000

    spent = await aid.buy()  # the quota is used up: this one is all cash
    assert _split(spent) == ("0.00", "0.00", "30.00")
    assert await aid.balance() == 8_000


async def _cancel_by_2103(aid: Aid) -> None:
    settled = await aid.buy()
    info = settled["output"]["setlinfo"]
    cancelled = await aid.w.pharmacy.call(
        "2103", {"data": {"setl_id": info["setl_id"], "psn_no": aid.patient.psn_no}}
    )
    assert cancelled["infcode"] == 0, cancelled
    assert cancelled["output"]["setlinfo"]["acct_mulaid_pay"] == "-20.00"


async def _cancel_by_2208(aid: Aid) -> None:
    settled = await aid.visit()
    info = settled["output"]["setlinfo"]
    assert info["acct_mulaid_pay"] == "20.00"
    data = {"setl_id": info["setl_id"], "psn_no": aid.patient.psn_no, "mdtrt_id": info["mdtrt_id"]}
    cancelled = await aid.w.hospital.call("2208", {"data": data})
    assert cancelled["infcode"] == 0, cancelled
    assert cancelled["output"]["setlinfo"]["acct_mulaid_pay"] == "-20.00"


async def _reverse_2102_by_2601(aid: Aid) -> None:
    msgid = aid.w.pharmacy.new_msgid()
    await aid.buy(msgid)
    data = {"psn_no": aid.patient.psn_no, "omsgid": msgid, "oinfno": "2102"}
    reversed_ = await aid.w.pharmacy.call("2601", {"data": data})
    assert reversed_["infcode"] == 0, reversed_
    assert reversed_["output"]["data"]["rever_result"] == "settlement"


async def _reverse_2207_by_2601(aid: Aid) -> None:
    msgid = aid.w.hospital.new_msgid()
    await aid.visit(msgid)
    data = {"psn_no": aid.patient.psn_no, "omsgid": msgid, "oinfno": "2207"}
    reversed_ = await aid.w.hospital.call("2601", {"data": data})
    assert reversed_["infcode"] == 0, reversed_
    assert reversed_["output"]["data"]["rever_result"] == "settlement"


@pytest.mark.parametrize(
    "cancel",
    [_cancel_by_2103, _cancel_by_2208, _reverse_2102_by_2601, _reverse_2207_by_2601],
    ids=["2103", "2208", "2601-of-2102", "2601-of-2207"],
)
async def test_a_cancelled_mutual_aid_settlement_gives_its_quota_back(
    aid: Aid, cancel: Any
) -> None:
    await cancel(aid)
    assert await aid.balance() == 10_000
    assert await aid.quota() == (0, QUOTA_FEN)
    again = await aid.buy()  # and the whole quota pays again
    assert _split(again) == ("0.00", "20.00", "10.00")
    assert await aid.quota() == (QUOTA_FEN, 0)
    assert await aid.balance() == 8_000
