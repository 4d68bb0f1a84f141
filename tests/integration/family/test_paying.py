"""Mutual aid paying through settlement: order, quota, balance, revoke, freeze."""

from __future__ import annotations

from sqlalchemy import select

from tests.support.family import buy, employee, member, open_aid, pharmacy, world
from yibao.family import service as family
from yibao.ledger.tables import PersonalAccount
from yibao.notifications.tables import OutboxMessage
from yibao.runtime import Runtime


async def _balance(runtime: Runtime, account_id: int | None) -> int:
    assert account_id is not None
    async with runtime.sessions() as s:
        account = await s.get(PersonalAccount, account_id)
        assert account is not None
        return account.balance_fen


async def test_parent_paid_by_child_then_quota_then_revoke(runtime: Runtime) -> None:
    await world(runtime)
    child = await employee(runtime, fen=50_000)
    parent = await member(runtime, "王建国")
    shop = await pharmacy(runtime)
    authorisation_id = await open_aid(runtime, child, parent)

    first = await buy(runtime, shop, parent, 3_000, "P310104000012026112500000001")
    assert first.payment.acct_pay_fen == 0
    assert first.payment.acct_mulaid_pay_fen == 3_000
    assert first.payment.psn_cash_pay_fen == 0
    assert await _balance(runtime, child.account_id) == 47_000

    async with runtime.sessions() as s:
        await family.change_quota(s, runtime.clock, child.person_id, authorisation_id, 5_000)
    second = await buy(runtime, shop, parent, 4_000, "P310104000012026112500000002")
    assert second.payment.acct_mulaid_pay_fen == 2_000  # 5 000 quota - 3 000 used
    assert second.payment.psn_cash_pay_fen == 2_000

    async with runtime.sessions() as s:
        lines = await family.family_page(s, runtime.clock, child.person_id)
        assert [(x.used_fen, x.remaining_fen, x.status) for x in lines] == [(5_000, 0, "active")]
        paid = await family.aid_paid_by(s, child.person_id)
        assert [(p.amount_fen, p.institution, p.beneficiary_name) for p in paid] == [
            (2_000, "测试大药房", "王建国"),
            (3_000, "测试大药房", "王建国"),
        ]
        received = await family.aid_received(s, parent.person_id)
        assert {p.payer_name for p in received} == {"王芳"}
        sms = (
            (
                await s.execute(
                    select(OutboxMessage).where(
                        OutboxMessage.person_id == child.person_id,
                        OutboxMessage.subject == "家庭共济支付提醒",
                    )
                )
            )
            .scalars()
            .all()
        )
        assert {m.channel for m in sms} == {"sms", "inapp"} and len(sms) == 4

    async with runtime.sessions() as s:
        await family.change_quota(s, runtime.clock, child.person_id, authorisation_id, None)
        await family.revoke(s, runtime.clock, child.person_id, authorisation_id)
    third = await buy(runtime, shop, parent, 1_000, "P310104000012026112500000003")
    assert third.payment.acct_mulaid_pay_fen == 0
    assert third.payment.psn_cash_pay_fen == 1_000
    assert await _balance(runtime, child.account_id) == 45_000
