"""违规使用: staff freeze an account with a reason; unfreezing needs a second staff member.

A frozen authoriser pays for no one (the payer hook skips them, the ledger refuses the debit);
both the holder and the relatives they support are told why and how to appeal.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment import repository as enrolment_repository
from yibao.family import repository
from yibao.family.domain import (
    APPEAL_TEXT,
    SecondApproverRequired,
    Status,
    StatusChangeRefused,
    require_reason,
)
from yibao.family.service.common import Staff, audit, tell
from yibao.family.tables import AccountFreeze
from yibao.kernel.clock import Clock
from yibao.kernel.errors import NotFound
from yibao.kernel.idnumber import mask_name
from yibao.ledger import repository as ledger_repository
from yibao.ledger.domain import AccountStatus, NoPersonalAccount


async def _relatives_supported(session: AsyncSession, person_id: int) -> list[int]:
    return [
        r.beneficiary_person_id
        for r in await repository.given_by(session, person_id)
        if r.status in {Status.ACTIVE, Status.PAUSED}
    ]


async def freeze_for_misuse(
    session: AsyncSession, clock: Clock, staff: Staff, person_id: int, reason: str
) -> AccountFreeze:
    text = require_reason(reason, "冻结原因")
    account = await ledger_repository.account_for_person(session, person_id, lock=True)
    if account is None:
        raise NoPersonalAccount("该参保人没有职工医保个人账户")
    if account.status == AccountStatus.FROZEN:
        raise StatusChangeRefused("该账户已处于冻结状态")
    now = clock.now()
    await ledger_repository.freeze(session, account, text, now)
    freeze = AccountFreeze(
        person_id=person_id,
        account_id=account.id,
        reason=text,
        frozen_by=staff.label,
        frozen_at=now,
        status="frozen",
    )
    session.add(freeze)
    await session.flush()
    await audit(
        session,
        staff,
        "account.freeze",
        person_id,
        now,
        reason="misuse",
        freeze_id=freeze.id,
        why=text,
    )
    holder = await enrolment_repository.person(session, person_id)
    holder_name = holder.name if holder else "授权人"
    await tell(
        session,
        person_id,
        f"frozen:{freeze.id}",
        "医保个人账户已冻结",
        f"您的医保个人账户因违规使用已冻结：{text}。冻结期间账户暂停支付，"
        f"也不能为家庭共济亲属支付。{APPEAL_TEXT}。",
        now,
    )
    for relative_id in await _relatives_supported(session, person_id):
        await tell(
            session,
            relative_id,
            f"frozen:{freeze.id}:{relative_id}",
            "家庭共济暂停支付",
            f"为您共济的{mask_name(holder_name)}的医保个人账户因违规使用已冻结（{text}），"
            f"冻结期间不再为您支付。{APPEAL_TEXT}。",
            now,
        )
    await session.commit()
    return freeze


async def request_unfreeze(
    session: AsyncSession, clock: Clock, staff: Staff, freeze_id: int, reason: str
) -> AccountFreeze:
    text = require_reason(reason, "解冻理由")
    freeze = await session.get(AccountFreeze, freeze_id, with_for_update=True)
    if freeze is None:
        raise NotFound("找不到该冻结记录")
    if freeze.status != "frozen":
        raise StatusChangeRefused("该冻结记录已申请解冻或已解冻")
    freeze.status = "unfreeze_requested"
    freeze.unfreeze_requested_by = staff.label
    freeze.unfreeze_reason = text
    freeze.unfreeze_requested_at = clock.now()
    await audit(
        session,
        staff,
        "account.unfreeze_request",
        freeze.person_id,
        freeze.unfreeze_requested_at,
        reason="misuse",
        freeze_id=freeze.id,
        why=text,
    )
    await session.commit()
    return freeze


async def approve_unfreeze(
    session: AsyncSession, clock: Clock, staff: Staff, freeze_id: int
) -> AccountFreeze:
    """The second pair of eyes: not the one who asked for the unfreeze."""
    freeze = await session.get(AccountFreeze, freeze_id, with_for_update=True)
    if freeze is None:
        raise NotFound("找不到该冻结记录")
    if freeze.status != "unfreeze_requested":
        raise StatusChangeRefused("请先由经办人员提出解冻申请")
    if freeze.unfreeze_requested_by == staff.label:
        raise SecondApproverRequired("解冻须由另一位工作人员复核批准")
    account = await ledger_repository.lock_account(session, freeze.account_id)
    now = clock.now()
    await ledger_repository.unfreeze(session, account, now)
    freeze.status = "unfrozen"
    freeze.unfrozen_by = staff.label
    freeze.unfrozen_at = now
    await audit(
        session,
        staff,
        "account.unfreeze",
        freeze.person_id,
        now,
        reason="misuse",
        freeze_id=freeze.id,
    )
    await tell(
        session,
        freeze.person_id,
        f"unfrozen:{freeze.id}",
        "医保个人账户已解冻",
        "您的医保个人账户已解冻，恢复正常支付和家庭共济。",
        now,
    )
    for relative_id in await _relatives_supported(session, freeze.person_id):
        await tell(
            session,
            relative_id,
            f"unfrozen:{freeze.id}:{relative_id}",
            "家庭共济恢复支付",
            "为您共济的亲属账户已解冻，恢复为您支付。",
            now,
            sms=False,
        )
    await session.commit()
    return freeze
