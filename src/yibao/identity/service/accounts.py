"""Registration, password reset, the card query password, staff unlock, the account overview."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment import repository as enrolment_repository
from yibao.identity import repository as repo
from yibao.identity.domain import (
    SECURITY_EVENT_NAMES,
    AlreadyRegistered,
    CodePurpose,
    RealNameCheckFailed,
    RealNameMismatch,
    RegistrationExpired,
    SecurityEventKind,
    UnknownAccount,
    after_success,
    check_card_password,
    check_code_shape,
    check_password,
    classify_identifier,
)
from yibao.identity.realname import METHOD_NAMES, METHODS, RealNameEvidence, RealNameProvider
from yibao.identity.service.common import (
    IssuedSession,
    check_code,
    china_minute,
    hash_password,
    open_session,
    policy_of,
    queue_code,
)
from yibao.identity.tables import OnlineAccount
from yibao.kernel.errors import InvalidInput
from yibao.kernel.idnumber import mask_phone, parse_id_number, parse_phone
from yibao.runtime import Runtime

_TICKET_PURPOSE = "registration-password"
SENT_IF_REGISTERED = "如该号码已开通网上账户，验证码已发送"


async def send_code(rt: Runtime, session: AsyncSession, phone: str, purpose: CodePurpose) -> str:
    """Registration and SMS sign-in: to a phone typed in. Sign-in never says whether it exists."""
    phone = parse_phone(phone)
    found = await repo.account_by_phone(session, rt.cipher, phone)
    if purpose is CodePurpose.REGISTER:
        if found is not None:
            raise AlreadyRegistered("该手机号已注册，请直接登录；忘记密码可通过“忘记密码”重置")
    elif found is None:
        return mask_phone(phone)
    person_id = found.person_id if found else None
    masked = await queue_code(rt, session, phone, purpose, person_id)
    await session.commit()
    return masked


async def send_code_to_account(
    rt: Runtime, session: AsyncSession, account_id: int, purpose: CodePurpose
) -> str:
    found = await repo.account(session, account_id)
    if found is None:
        raise UnknownAccount("账户不存在")
    phone = repo.decrypt_account_phone(rt.cipher, found)
    person_id = found.person_id
    masked = await queue_code(rt, session, phone, purpose, person_id)
    await session.commit()
    return masked


async def send_reset_code(rt: Runtime, session: AsyncSession, id_number: str) -> str:
    id_number = parse_id_number(id_number).value
    person = await enrolment_repository.person_by_id_number(session, rt.cipher, id_number)
    found = await repo.account_of_person(session, person.id) if person else None
    if found is None:
        return SENT_IF_REGISTERED
    phone = repo.decrypt_account_phone(rt.cipher, found)
    person_id, masked = found.person_id, found.phone_masked
    await queue_code(rt, session, phone, CodePurpose.RESET, person_id)
    await session.commit()
    return f"验证码已发送至 {masked}"


def _ticket_key(ticket: str) -> str:
    return "reg:" + hashlib.sha256(ticket.encode()).hexdigest()


async def start_registration(
    rt: Runtime, session: AsyncSession, phone: str, code: str, password: str
) -> str:
    """Phone proven by its code and a strong password chosen: a ticket for the real-name step.

    The password waits encrypted in the short-lived store, so the last step can also check it
    against the ID number, which is only known then.
    """
    phone = parse_phone(phone)
    code = check_code_shape(code)
    check_password(password, phone=phone)
    if await repo.account_by_phone(session, rt.cipher, phone) is not None:
        raise AlreadyRegistered("该手机号已注册，请直接登录；忘记密码可通过“忘记密码”重置")
    await check_code(rt, phone, CodePurpose.REGISTER, code)
    ticket = secrets.token_urlsafe(24)
    sealed = rt.cipher.encrypt(password, purpose=_TICKET_PURPOSE)
    value = json.dumps({"phone": phone, "pw": base64.b64encode(sealed).decode()})
    await rt.ephemeral.put(_ticket_key(ticket), value, policy_of(rt.settings).registration_ttl)
    return ticket


async def complete_registration(
    rt: Runtime,
    session: AsyncSession,
    provider: RealNameProvider,
    *,
    ticket: str,
    name: str,
    id_number: str,
    evidence: RealNameEvidence,
    via: str,
    user_agent: str = "",
) -> IssuedSession:
    raw = await rt.ephemeral.get(_ticket_key(ticket)) if ticket else None
    if raw is None:
        raise RegistrationExpired("注册已超时，请重新获取验证码开始注册")
    held = json.loads(raw)
    phone = str(held["phone"])
    password = rt.cipher.decrypt(base64.b64decode(held["pw"]), purpose=_TICKET_PURPOSE)
    name = name.strip()
    if not name:
        raise InvalidInput("请填写姓名")
    if evidence.method not in METHODS:
        raise InvalidInput("请选择实名认证方式：身份证照片或人脸识别")
    id_value = parse_id_number(id_number).value
    check_password(password, phone=phone, id_number=id_value)
    now = rt.clock.now()
    person = await enrolment_repository.person_by_id_number(session, rt.cipher, id_value)
    if person is None or person.name != name:
        repo.record_event(
            session,
            SecurityEventKind.REAL_NAME_REFUSED,
            now,
            channel=via,
            person_id=person.id if person else None,
            reason="name_or_id_mismatch",
        )
        await session.commit()
        raise RealNameMismatch("姓名与身份证号码不匹配，或该身份证号码未参保；请核对后重新输入")
    if await repo.account_of_person(session, person.id) is not None:
        raise AlreadyRegistered("该参保人已开通网上账户，请直接登录；忘记密码可通过“忘记密码”重置")
    result = await provider.verify(name, id_value, evidence)
    if not result.passed:
        repo.record_event(
            session,
            SecurityEventKind.REAL_NAME_REFUSED,
            now,
            channel=via,
            person_id=person.id,
            method=evidence.method,
        )
        await session.commit()
        raise RealNameCheckFailed(result.reason or "实名认证未通过，请重试")
    account = OnlineAccount(
        person_id=person.id,
        phone_enc=rt.cipher.encrypt(phone, purpose=repo.PHONE_PURPOSE),
        phone_hash=repo.phone_hash(rt.cipher, phone),
        phone_masked=mask_phone(phone),
        password_hash=hash_password(password),
        real_name_method=evidence.method,
        real_name_verified_at=now,
        failed_count=0,
        created_at=now,
    )
    session.add(account)
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        raise AlreadyRegistered("该手机号或参保人已开通网上账户，请直接登录") from exc
    for kind in (SecurityEventKind.REGISTERED, SecurityEventKind.REAL_NAME_VERIFIED):
        repo.record_event(
            session,
            kind,
            now,
            channel=via,
            account_id=account.id,
            person_id=person.id,
            method=evidence.method,
        )
    repo.record_event(
        session,
        SecurityEventKind.SIGN_IN_OK,
        now,
        channel=via,
        account_id=account.id,
        person_id=person.id,
        method="registration",
    )
    issued = open_session(session, now, via=via, user_agent=user_agent, account_id=account.id)
    await session.commit()
    await rt.ephemeral.delete(_ticket_key(ticket))
    return issued


async def open_account_at_counter(
    rt: Runtime,
    session: AsyncSession,
    *,
    id_number: str,
    phone: str,
    password: str,
    card_password: str | None = None,
    by: str,
) -> OnlineAccount:
    """Counter staff open the online account for a person who showed their ID card in person
    (also how `yibao demo` gives the demo person an account)."""
    id_value = parse_id_number(id_number).value
    phone = parse_phone(phone)
    check_password(password, phone=phone, id_number=id_value)
    if card_password is not None:
        check_card_password(card_password)
    person = await enrolment_repository.person_by_id_number(session, rt.cipher, id_value)
    if person is None:
        raise RealNameMismatch("该身份证号码未参保，不能开通网上账户")
    if await repo.account_of_person(session, person.id) is not None:
        raise AlreadyRegistered("该参保人已开通网上账户")
    if await repo.account_by_phone(session, rt.cipher, phone) is not None:
        raise AlreadyRegistered("该手机号已被其他网上账户使用")
    now = rt.clock.now()
    account = OnlineAccount(
        person_id=person.id,
        phone_enc=rt.cipher.encrypt(phone, purpose=repo.PHONE_PURPOSE),
        phone_hash=repo.phone_hash(rt.cipher, phone),
        phone_masked=mask_phone(phone),
        password_hash=hash_password(password),
        card_password_hash=hash_password(card_password) if card_password else None,
        real_name_method="counter",
        real_name_verified_at=now,
        failed_count=0,
        created_at=now,
    )
    session.add(account)
    await session.flush()
    for kind in (SecurityEventKind.REGISTERED, SecurityEventKind.REAL_NAME_VERIFIED):
        repo.record_event(
            session,
            kind,
            now,
            channel="counter",
            account_id=account.id,
            person_id=person.id,
            by=by,
        )
    await session.commit()
    return account


async def reset_password(
    rt: Runtime, session: AsyncSession, *, id_number: str, code: str, new_password: str, via: str
) -> None:
    """找回密码: ID number + SMS code to the account's phone; sets the password and unlocks."""
    id_value = parse_id_number(id_number).value
    code = check_code_shape(code)
    person = await enrolment_repository.person_by_id_number(session, rt.cipher, id_value)
    found = await repo.account_of_person(session, person.id) if person else None
    if found is None:
        raise UnknownAccount("该身份证号码尚未开通网上账户，请先注册")
    account_id = found.id
    phone = repo.decrypt_account_phone(rt.cipher, found)
    check_password(new_password, phone=phone, id_number=id_value)
    await check_code(rt, phone, CodePurpose.RESET, code)
    found = await repo.account(session, account_id, lock=True)
    assert found is not None
    now = rt.clock.now()
    was_locked = found.locked_until is not None and found.locked_until > now
    found.password_hash = hash_password(new_password)
    repo.set_lock_state(found, after_success())
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
) -> None:
    """医保卡密码: set or reset with the ID number on the account and an SMS code."""
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
    await check_code(rt, phone, CodePurpose.CARD_PASSWORD, code)
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


@dataclass(frozen=True, slots=True)
class AccountOverview:
    name: str
    id_number_masked: str
    phone_masked: str
    real_name_method: str
    has_card_password: bool
    passkeys: list[tuple[int, str, str]]  # id, name, created (Beijing time)
    events: list[tuple[str, str, str]]  # time, kind name, channel
    active_sessions: int


async def account_overview(rt: Runtime, session: AsyncSession, account_id: int) -> AccountOverview:
    found = await repo.account(session, account_id)
    if found is None:
        raise UnknownAccount("账户不存在")
    person = await enrolment_repository.person(session, found.person_id)
    assert person is not None
    keys = await repo.passkeys_of(session, account_id)
    events = await repo.events_of_account(session, account_id, limit=20)
    return AccountOverview(
        name=person.name,
        id_number_masked=person.id_number_masked,
        phone_masked=found.phone_masked,
        real_name_method=METHOD_NAMES.get(found.real_name_method, found.real_name_method),
        has_card_password=found.card_password_hash is not None,
        passkeys=[(k.id, k.name, china_minute(k.created_at)) for k in keys],
        events=[(china_minute(e.at), _event_text(e.kind, e.detail), e.channel) for e in events],
        active_sessions=len(await repo.active_sessions(session, account_id)),
    )


_METHOD_NAMES = {
    "password": "密码",
    "sms": "短信验证码",
    "passkey": "通行密钥",
    "card_password": "医保卡密码",
    "registration": "注册后",
    **METHOD_NAMES,
}


def _event_text(kind: str, detail: str) -> str:
    text = SECURITY_EVENT_NAMES.get(SecurityEventKind(kind), kind)
    method = json.loads(detail).get("method") if detail.startswith("{") else None
    return f"{text}（{_METHOD_NAMES[method]}）" if method in _METHOD_NAMES else text
