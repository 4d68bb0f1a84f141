"""At the counter: staff reset a person's 医保卡密码 (card query password) after checking the ID
document in hand. The clerk types the ID number again, so a look at the wrong person's record
cannot reset someone else's password; the person types the new password on the keypad."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import repository as audit_repository
from yibao.audit.domain import LOOKUP_REASONS, LookupReasonRequired
from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.domain import UnknownPerson
from yibao.identity import card_lock
from yibao.identity import repository as repo
from yibao.identity.domain import (
    RealNameMismatch,
    SecurityEventKind,
    StaffRoleRequired,
    UnknownAccount,
    check_card_password,
)
from yibao.identity.service.common import (
    china_minute,
    hash_password,
)
from yibao.kernel.actors import StaffActor
from yibao.kernel.errors import InvalidInput
from yibao.kernel.idnumber import parse_id_number
from yibao.notifications import repository as notifications
from yibao.notifications.domain import Channel
from yibao.runtime import Runtime

CARD_PASSWORD_RESET_ROLES = frozenset({"clerk", "admin"})


async def reset_card_password_at_counter(
    rt: Runtime,
    session: AsyncSession,
    staff: StaffActor,
    *,
    person_id: int,
    reason: str,
    id_document_checked: bool,
    id_number: str,
    card_password: str,
    card_password_again: str,
) -> None:
    if not staff.roles & CARD_PASSWORD_RESET_ROLES:
        raise StaffRoleRequired("您的岗位无权重置医保卡密码")
    if reason not in LOOKUP_REASONS:
        raise LookupReasonRequired("请先选择查询事由")
    if not id_document_checked:
        raise InvalidInput("请先核验本人身份证原件，并勾选“已核验”")
    id_value = parse_id_number(id_number).value
    check_card_password(card_password)
    if card_password != card_password_again:
        raise InvalidInput("两次输入的医保卡密码不一致")
    person = await enrolment_repository.person(session, person_id)
    if person is None:
        raise UnknownPerson("没有找到该参保人")
    expected = rt.cipher.lookup_hash(id_value, purpose=enrolment_repository.ID_PURPOSE)
    if person.id_number_hash != expected:
        raise RealNameMismatch("输入的身份证号码与该参保人不一致，请核对证件")
    found = await repo.account_of_person(session, person_id)
    if found is None:
        raise UnknownAccount("该参保人尚未开通网上账户，无医保卡密码可重置")
    account = await repo.account(session, found.id, lock=True)
    assert account is not None
    now = rt.clock.now()
    account.card_password_hash = hash_password(card_password)
    repo.record_event(
        session,
        SecurityEventKind.CARD_PASSWORD_SET,
        now,
        channel="staff",
        account_id=account.id,
        person_id=person_id,
        staff_id=staff.staff_id,
        office=staff.office,
    )
    await audit_repository.record_staff_action(
        session, staff, "card_password.reset", person_id, reason, {"id_checked": True}, now
    )
    # Tell the person on both channels: a reset they did not ask for is how misuse shows.
    text = (
        f"您的医保卡密码已于{china_minute(now)}在{staff.office}柜台重置。"
        "如非本人办理，请立即致电12393。"
    )
    for channel in (Channel.INAPP, Channel.SMS):
        await notifications.enqueue(
            session,
            channel=channel,
            dedup_key=f"card-password-reset:{account.id}:{now.isoformat()}:{channel.value}",
            subject="医保卡密码已重置",
            body=text,
            now=now,
            person_id=person_id,
        )
    await session.commit()
    # The new password starts with a clean count of wrong tries.
    await card_lock.forget(rt.ephemeral, account.id)
