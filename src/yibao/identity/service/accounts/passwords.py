"""Passwords after registration: 找回密码, the card query password (医保卡密码), staff unlock."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment import repository as enrolment_repository
from yibao.identity import devices
from yibao.identity import repository as repo
from yibao.identity.domain import (
    CodePurpose,
    CodeRejected,
    RealNameMismatch,
    SecurityEventKind,
    UnknownAccount,
    after_success,
    check_card_password,
    check_code_shape,
    check_password,
    classify_identifier,
)
from yibao.identity.service.common import (
    check_code,
    count_failure,
    discard_code,
    hash_password,
    refuse_if_throttled,
)
from yibao.kernel.idnumber import parse_id_number
from yibao.runtime import Runtime

RESET_CODE_REJECTED = "验证码错误或已过期"


async def reset_password(
    rt: Runtime,
    session: AsyncSession,
    *,
    id_number: str,
    code: str,
    new_password: str,
    via: str,
    client: str,
) -> None:
    """找回密码: ID number + SMS code to the account's phone; sets the password and unlocks.

    An ID number without an account fails as a wrong code does, with the same words, and counts
    against the address alike: anyone may type anyone's ID number here. The code's own reasons
    (expired, tries left, too many) are not told either, since only an ID number with an account
    has a code to give them. The one password rule that needs the account (not containing its
    phone) is checked only once the code is proven, and leaves the code usable: a refusal naming
    it would otherwise tell that the account exists, and which digits its phone has."""
    await refuse_if_throttled(rt, client)
    id_value = parse_id_number(id_number).value
    code = check_code_shape(code)
    check_password(new_password, id_number=id_value)
    person = await enrolment_repository.person_by_id_number(session, rt.cipher, id_value)
    found = await repo.account_of_person(session, person.id) if person else None
    if found is None:
        if await count_failure(rt, session, client, via):
            await session.commit()
        raise CodeRejected(RESET_CODE_REJECTED)
    account_id = found.id
    phone = repo.decrypt_account_phone(rt.cipher, found)
    try:
        await check_code(
            rt, session, phone, CodePurpose.RESET, code, client=client, via=via, keep=True
        )
    except CodeRejected:
        raise CodeRejected(RESET_CODE_REJECTED) from None
    check_password(new_password, phone=phone, id_number=id_value)
    await discard_code(rt, phone, CodePurpose.RESET)
    found = await repo.account(session, account_id, lock=True)
    assert found is not None
    now = rt.clock.now()
    was_locked = found.locked_until is not None and found.locked_until > now
    found.password_hash = hash_password(new_password)
    repo.set_lock_state(found, after_success())
    await devices.forget_all(rt.ephemeral, "person", found.id)
    repo.record_event(
        session,
        SecurityEventKind.PASSWORD_RESET,
        now,
        channel=via,
        account_id=found.id,
        person_id=found.person_id,
        unlocked=was_locked,
    )
    # A reset password ends every session that knew the old one.
    await repo.end_sessions(session, now, account_id=found.id)
    await session.commit()


async def set_card_password(
    rt: Runtime,
    session: AsyncSession,
    *,
    account_id: int,
    id_number: str,
    code: str,
    card_password: str,
    via: str,
    client: str,
) -> None:
    """医保卡密码: set or reset with the ID number on the account and an SMS code."""
    await refuse_if_throttled(rt, client)
    check_card_password(card_password)
    code = check_code_shape(code)
    id_value = parse_id_number(id_number).value
    found = await repo.account(session, account_id, lock=True)
    if found is None:
        raise UnknownAccount("账户不存在")
    person = await enrolment_repository.person(session, found.person_id)
    expected = rt.cipher.lookup_hash(id_value, purpose=enrolment_repository.ID_PURPOSE)
    if person is None or person.id_number_hash != expected:
        raise RealNameMismatch("身份证号码与本账户的实名信息不一致")
    phone = repo.decrypt_account_phone(rt.cipher, found)
    await check_code(rt, session, phone, CodePurpose.CARD_PASSWORD, code, client=client, via=via)
    found = await repo.account(session, account_id, lock=True)
    assert found is not None
    now = rt.clock.now()
    found.card_password_hash = hash_password(card_password)
    repo.record_event(
        session,
        SecurityEventKind.CARD_PASSWORD_SET,
        now,
        channel=via,
        account_id=found.id,
        person_id=found.person_id,
    )
    await session.commit()


async def unlock_account(rt: Runtime, session: AsyncSession, identifier: str, *, by: str) -> str:
    """Staff unlock (customer service): phone, ID number or card number."""
    parsed = classify_identifier(identifier)
    found = await repo.account_by_identifier(session, rt.cipher, *parsed) if parsed else None
    if found is None:
        raise UnknownAccount("找不到该网上账户（请输入手机号、身份证号码或社保卡号）")
    found = await repo.account(session, found.id, lock=True)
    assert found is not None
    repo.set_lock_state(found, after_success())
    await devices.forget_all(rt.ephemeral, "person", found.id)
    repo.record_event(
        session,
        SecurityEventKind.UNLOCKED,
        rt.clock.now(),
        channel="staff",
        account_id=found.id,
        person_id=found.person_id,
        by=by,
    )
    await session.commit()
    return found.phone_masked
