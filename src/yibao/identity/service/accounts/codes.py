"""SMS codes sent for registration, sign-in, 忘记密码 and the account's own checks. Each use case
first counts the request against the client's address (SMS bombing), before anything else."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment import repository as enrolment_repository
from yibao.identity import codes
from yibao.identity import repository as repo
from yibao.identity.domain import AlreadyRegistered, CodePurpose, RateLimited, UnknownAccount
from yibao.identity.service.common import policy_of, queue_code, refuse_sms_if_spent
from yibao.kernel.idnumber import mask_phone, parse_id_number, parse_phone
from yibao.runtime import Runtime

# 找回密码 answers these words whether the ID number has an account or not (and never the masked
# phone): anyone may type anyone's ID number here.
RESET_CODE_SENT = "如该证件号已开通网上账户，验证码已发送至其预留手机号"


async def send_code(
    rt: Runtime,
    session: AsyncSession,
    phone: str,
    purpose: CodePurpose,
    *,
    client: str,
    via: str,
) -> str:
    """Registration and SMS sign-in: to a phone typed in. Sign-in never says whether it exists."""
    await refuse_sms_if_spent(rt, session, client, via)
    phone = parse_phone(phone)
    if purpose is not CodePurpose.REGISTER:
        return await _send_sign_in_code(rt, session, phone, purpose)
    if await repo.account_by_phone(session, rt.cipher, phone) is not None:
        raise AlreadyRegistered("该手机号已注册，请直接登录；忘记密码可通过“忘记密码”重置")
    masked = await queue_code(rt, session, phone, purpose, None)
    await session.commit()
    return masked


async def _send_sign_in_code(
    rt: Runtime, session: AsyncSession, phone: str, purpose: CodePurpose
) -> str:
    """SMS sign-in, as 找回密码 (`send_reset_code`): the same answer and the same limits whether
    the phone has an account or not. The one-a-minute and daily limits are counted on the phone
    typed in, account or not, so that "too often" is told alike; counted only on real sends, a
    second ask within the minute was refused for an account's phone alone. The phone's own
    limits (shared with its step-up and reset codes) still hold, but a refusal by them would
    show that an account is behind it: the answer is "sent" then, and nothing is sent."""
    await _reserve_for_what_was_typed(rt, purpose, phone, what="该手机号")
    masked = mask_phone(phone)
    found = await repo.account_by_phone(session, rt.cipher, phone)
    if found is None:
        return masked
    try:
        await queue_code(rt, session, phone, purpose, found.person_id)
    except RateLimited:
        return masked
    await session.commit()
    return masked


async def _reserve_for_what_was_typed(
    rt: Runtime, purpose: CodePurpose, typed: str, *, what: str
) -> None:
    """The send limits (`codes.reserve_sending`), counted on a keyed hash of what the asker typed
    (a phone, an ID number) before anything is looked up: the same for an account as for none."""
    key = f"{purpose.value}:" + rt.cipher.lookup_hash(typed, purpose=f"{purpose.value}-code")
    await codes.reserve_sending(
        rt.ephemeral, key, rt.clock.now(), policy_of(rt.settings), what=what
    )


async def send_code_to_account(
    rt: Runtime,
    session: AsyncSession,
    account_id: int,
    purpose: CodePurpose,
    *,
    client: str,
    via: str,
) -> str:
    await refuse_sms_if_spent(rt, session, client, via)
    found = await repo.account(session, account_id)
    if found is None:
        raise UnknownAccount("账户不存在")
    phone = repo.decrypt_account_phone(rt.cipher, found)
    person_id = found.person_id
    masked = await queue_code(rt, session, phone, purpose, person_id)
    await session.commit()
    return masked


async def send_reset_code(
    rt: Runtime, session: AsyncSession, id_number: str, *, client: str, via: str
) -> str:
    """找回密码's code, to the phone of the ID number's account if it has one. The asker learns
    nothing either way: the same answer, and the same limits, counted on the ID number typed in
    (one a minute, `sms_daily_limit` a day), so that a refusal for "too often" cannot tell an ID
    number with an account from one without. The phone's own limits still hold, but a refusal
    by them (codes asked for sign-in or step-up on that phone) is not told: it would show that
    this ID number has a phone behind it. Nothing is sent then, as for an ID number without an
    account; the person asks again a minute later."""
    await refuse_sms_if_spent(rt, session, client, via)
    id_number = parse_id_number(id_number).value
    await _reserve_for_what_was_typed(rt, CodePurpose.RESET, id_number, what="该证件号")
    person = await enrolment_repository.person_by_id_number(session, rt.cipher, id_number)
    found = await repo.account_of_person(session, person.id) if person else None
    if found is None:
        return RESET_CODE_SENT
    phone = repo.decrypt_account_phone(rt.cipher, found)
    try:
        await queue_code(rt, session, phone, CodePurpose.RESET, found.person_id)
    except RateLimited:
        return RESET_CODE_SENT
    await session.commit()
    return RESET_CODE_SENT
