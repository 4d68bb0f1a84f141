"""200 settlements at once at one account, from several pharmacies, with duplicated msgids mixed
in: every fen accounted for, no msgid settled twice, the balance never negative."""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import settlement_world
from tests.support.fsi import Institution
from yibao.enrolment import repository as enrolment_repository
from yibao.ledger.tables import LedgerEntry, PersonalAccount
from yibao.runtime import Runtime
from yibao.settlement import service
from yibao.settlement.tables import InterfaceMessage, Settlement

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("backend", ["postgres"])
async def test_two_hundred_settlements_at_once(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    w = await settlement_world.build(runtime, session, client, balance_fen=50_000)
    person = w.person.person
    id_number = enrolment_repository.decrypt_id_number(runtime.cipher, person)
    pharmacies = [w.pharmacy]
    for n in range(2, 5):
        code = f"P4403050{n:04d}"
        made = await service.add_institution(
            session,
            runtime.cipher,
            runtime.clock,
            service.NewInstitution(code, f"深圳第{n}大药房", "440300"),
        )
        pharmacies.append(Institution(client, code, f"深圳第{n}大药房", made.token, "440300"))
    psn_no, person_id = person.psn_no, person.id
    await session.close()
    for pharmacy in pharmacies:
        await pharmacy.sign_in()

    sale = {
        "druginfo": {
            "psn_no": psn_no,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": id_number,
            "med_type": "41",
            "medfee_sumamt": "13.00",
            "insutype": "310",
            "acct_used_flag": "1",
        },
        # 丙类: all 13.00 falls to the person, so the account runs dry part-way.
        "drugdetail": [
            {
                "feedetl_sn": "1",
                "med_list_codg": "XN06AXA063A001010101005",
                "pric": "13.00",
                "cnt": "1",
                "det_item_fee_sumamt": "13.00",
            }
        ],
    }
    rng = random.Random(6)
    originals = [(p, p.new_msgid()) for p in (pharmacies * 40)[:160]]
    calls = originals + [rng.choice(originals) for _ in range(40)]
    rng.shuffle(calls)
    answers = await asyncio.gather(*(p.call("2102", sale, msgid=m) for p, m in calls))

    assert all(a["infcode"] == 0 for a in answers), [a["err_msg"] for a in answers if a["infcode"]][
        :3
    ]
    by_msgid: dict[str, set[str]] = {}
    for (_, msgid), a in zip(calls, answers, strict=True):
        by_msgid.setdefault(msgid, set()).add(a["output"]["setlinfo"]["setl_id"])
    assert len(by_msgid) == 160
    assert all(len(ids) == 1 for ids in by_msgid.values())  # a duplicate got the first answer

    async with runtime.sessions() as s:
        settlements = list(
            (await s.execute(select(Settlement).where(Settlement.person_id == person_id))).scalars()
        )
        account = (
            await s.execute(select(PersonalAccount).where(PersonalAccount.person_id == person_id))
        ).scalar_one()
        messages = int(
            (
                await s.execute(
                    select(func.count())
                    .select_from(InterfaceMessage)
                    .where(InterfaceMessage.infno == "2102")
                )
            ).scalar_one()
        )
        lowest = (
            await s.execute(
                select(func.min(LedgerEntry.balance_after_fen)).where(
                    LedgerEntry.account_id == account.id
                )
            )
        ).scalar_one()
    assert len(settlements) == 160 and messages == 160
    assert len({st.msgid for st in settlements}) == 160
    paid = sum(st.acct_pay_fen for st in settlements)
    assert paid == 50_000 - account.balance_fen
    assert account.balance_fen >= 0 and lowest >= 0
    assert paid == 50_000  # 160 × 13.00 is more than the account held: it was emptied exactly
    assert sum(st.psn_cash_pay_fen for st in settlements) == 160 * 1300 - 50_000
