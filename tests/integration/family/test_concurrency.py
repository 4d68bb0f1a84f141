"""Quota and balance hold under 100 concurrent settlements; a revocation racing a settlement."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.support.family import DRUG, PHARMACY, buy, employee, member, open_aid, pharmacy, world
from yibao.family import service as family
from yibao.ledger.tables import LedgerEntry, PersonalAccount
from yibao.runtime import Runtime
from yibao.settlement import service as settlement
from yibao.settlement.domain import Caller, FeeLine

N = 100


async def _balance(runtime: Runtime, account_id: int | None) -> int:
    async with runtime.sessions() as s:
        account = await s.get(PersonalAccount, account_id)
        assert account is not None
        return account.balance_fen


async def _many(runtime: Runtime, shop: Caller, patients: list, fen: int) -> list[int]:
    async def one(i: int) -> int:
        patient = patients[i % len(patients)]
        result = await buy(runtime, shop, patient, fen, f"{PHARMACY}20261125{i:010d}")
        payment = result.payment
        assert payment.acct_mulaid_pay_fen + payment.psn_cash_pay_fen == fen
        return payment.acct_mulaid_pay_fen

    return list(await asyncio.gather(*(one(i) for i in range(N))))


async def test_quota_never_exceeded_under_100_concurrent_settlements(runtime: Runtime) -> None:
    await world(runtime)
    payer = await employee(runtime, fen=80_000)
    parent = await member(runtime, "王建国")
    shop = await pharmacy(runtime)
    aid = await open_aid(runtime, payer, parent)
    async with runtime.sessions() as s:
        await family.change_quota(s, runtime.clock, payer.person_id, aid, 30_000)

    paid = await _many(runtime, shop, [parent], 700)

    assert sum(paid) == 30_000  # the quota, exactly: 42 full payments and one of 600
    assert sorted(set(paid)) == [0, 600, 700]
    assert await _balance(runtime, payer.account_id) == 80_000 - sum(paid)
    async with runtime.sessions() as s:
        lines = await family.family_page(s, runtime.clock, payer.person_id)
        assert (lines[0].used_fen, lines[0].remaining_fen) == (30_000, 0)
        ledger_sum = (
            await s.execute(
                select(func.sum(LedgerEntry.amount_fen)).where(
                    LedgerEntry.account_id == payer.account_id
                )
            )
        ).scalar_one()
    assert ledger_sum == 80_000 - 30_000


async def test_balance_never_exceeded_for_two_relatives_at_once(runtime: Runtime) -> None:
    await world(runtime)
    payer = await employee(runtime, fen=20_000)
    mother = await member(runtime, "李秀英")
    father = await member(runtime, "王建国")
    shop = await pharmacy(runtime)
    await open_aid(runtime, payer, mother)
    await open_aid(runtime, payer, father)

    paid = await _many(runtime, shop, [mother, father], 300)

    assert sum(paid) == 20_000
    assert await _balance(runtime, payer.account_id) == 0


def _sale(patient, fen: int, msgid: str) -> settlement.BillRequest:  # type: ignore[no-untyped-def]
    return settlement.BillRequest(
        psn_no=patient.psn_no,
        mdtrt_cert_type="02",
        mdtrt_cert_no=patient.id_number,
        med_type="41",
        medfee_sumamt_fen=fen,
        insutype=None,
        acct_used_flag=True,
        msgid=msgid,
        lines=(FeeLine("1", DRUG, fen, Decimal(1), fen),),
    )


async def test_revocation_waits_for_a_settlement_in_flight_then_stops_the_next(
    runtime: Runtime,
) -> None:
    await world(runtime)
    payer = await employee(runtime, fen=10_000)
    parent = await member(runtime, "王建国")
    shop = await pharmacy(runtime)
    aid = await open_aid(runtime, payer, parent)

    async with runtime.sessions() as in_flight:
        result = await settlement.settle_in(
            in_flight,
            runtime.cipher,
            runtime.clock,
            shop,
            _sale(parent, 2_000, f"{PHARMACY}202611250000000001"),
            write=True,
        )
        assert result.payment.acct_mulaid_pay_fen == 2_000

        async def revoke() -> str:
            async with runtime.sessions() as s:
                row = await family.revoke(s, runtime.clock, payer.person_id, aid)
                return row.status

        racing = asyncio.create_task(revoke())
        await asyncio.sleep(0.5)
        assert not racing.done()  # held by the settlement's lock on the authorisation
        await in_flight.commit()
    assert await asyncio.wait_for(racing, 30) == "revoked"

    after = await buy(runtime, shop, parent, 1_500, f"{PHARMACY}202611250000000002")
    assert after.payment.acct_mulaid_pay_fen == 0 and after.payment.psn_cash_pay_fen == 1_500
    assert await _balance(runtime, payer.account_id) == 8_000


@pytest.mark.parametrize("revoke_first", [True, False])
async def test_revocation_and_settlements_race_without_overspending(
    runtime: Runtime, revoke_first: bool
) -> None:
    await world(runtime)
    payer = await employee(runtime, fen=50_000)
    parent = await member(runtime, "王建国")
    shop = await pharmacy(runtime)
    aid = await open_aid(runtime, payer, parent)

    # The last ledger entry once the revocation has committed: every entry is numbered in the
    # order it was written, so a 共济 payment for the parent numbered after it was paid on a
    # revoked authorisation.
    watermark: list[int] = []

    async def revoke() -> None:
        async with runtime.sessions() as s:
            await family.revoke(s, runtime.clock, payer.person_id, aid)
        async with runtime.sessions() as s:
            watermark.append(await s.scalar(select(func.max(LedgerEntry.id))) or 0)

    async def sale(i: int) -> int:
        r = await buy(runtime, shop, parent, 100, f"{PHARMACY}20261125{i:010d}")
        return r.payment.acct_mulaid_pay_fen

    tasks = [sale(i) for i in range(20)]
    tasks.insert(0 if revoke_first else 10, revoke())  # type: ignore[arg-type]
    results = await asyncio.gather(*tasks)
    paid = sum(r for r in results if isinstance(r, int))
    async with runtime.sessions() as s:
        entries = list(
            (
                await s.execute(
                    select(LedgerEntry)
                    .where(LedgerEntry.account_id == payer.account_id)
                    .order_by(LedgerEntry.id)
                )
            ).scalars()
        )
    for_parent = [
        e
        for e in entries
        if e.kind == "mutual_aid_debit" and e.beneficiary_person_id == parent.person_id
    ]
    late = [(e.id, e.amount_fen) for e in for_parent if e.id > watermark[0]]
    assert late == [], f"paid after the revocation committed (entry {watermark[0]}): {late}"
    # The sales' own answers, the ledger and the balance tell the same story.
    assert [e.amount_fen for e in for_parent] == [-100] * (paid // 100)
    assert {e.kind for e in entries} <= {"contribution_credit", "mutual_aid_debit"}
    assert sum(e.amount_fen for e in entries) == 50_000 - paid
    assert await _balance(runtime, payer.account_id) == 50_000 - paid
    assert entries[-1].balance_after_fen == 50_000 - paid
    after = await buy(runtime, shop, parent, 100, f"{PHARMACY}202611259999999999")
    assert after.payment.acct_mulaid_pay_fen == 0


async def test_two_children_paying_one_parents_contribution_at_once_pay_once(
    runtime: Runtime,
) -> None:
    from yibao.family.domain import ContributionAlreadyPaid

    await world(runtime)
    son = await employee(runtime, fen=100_000, name="王大")
    daughter = await employee(runtime, fen=100_000, name="王二")
    parent = await member(runtime, "王建国")
    by_son = await open_aid(runtime, son, parent)
    by_daughter = await open_aid(runtime, daughter, parent)

    async def pay(payer_id: int, aid: int) -> str:
        async with runtime.sessions() as s:
            try:
                receipt = await family.pay_relative_contribution(s, runtime.clock, payer_id, aid)
            except ContributionAlreadyPaid:
                return "refused"
            return receipt.receipt_no

    results = await asyncio.gather(pay(son.person_id, by_son), pay(daughter.person_id, by_daughter))
    assert sorted(r == "refused" for r in results) == [False, True]
    assert (
        await _balance(runtime, son.account_id) + await _balance(runtime, daughter.account_id)
        == 200_000 - 38_000
    )


async def test_the_same_relative_applied_for_twice_at_once_gives_one_application(
    runtime: Runtime,
) -> None:
    from yibao.family.domain import AlreadyApplied, NotEligible

    await world(runtime)
    me = await employee(runtime)
    parent = await member(runtime, "王建国")

    async def apply() -> str:
        async with runtime.sessions() as s:
            try:
                await family.start_application(
                    s,
                    runtime.cipher,
                    runtime.clock,
                    me.person_id,
                    [family.Relative(parent.name, parent.id_number, "parent")],
                )
            except (AlreadyApplied, NotEligible):
                return "refused"
            return "ok"

    assert sorted(await asyncio.gather(apply(), apply(), apply())) == ["ok", "refused", "refused"]
