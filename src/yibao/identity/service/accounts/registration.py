"""Opening an online account: on the phone (code, password, then real name), or at the counter."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import replace
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment import repository as enrolment_repository
from yibao.identity import devices
from yibao.identity import repository as repo
from yibao.identity.domain import (
    AlreadyRegistered,
    CodePurpose,
    RealNameCheckFailed,
    RealNameMismatch,
    RegistrationExpired,
    SecurityEventKind,
    check_card_password,
    check_code_shape,
    check_password,
)
from yibao.identity.realname import METHODS, RealNameEvidence, RealNameProvider
from yibao.identity.service.common import (
    IssuedSession,
    check_code,
    hash_password,
    open_session,
    policy_of,
    refuse_if_throttled,
)
from yibao.identity.tables import OnlineAccount
from yibao.kernel.errors import InvalidInput
from yibao.kernel.idnumber import mask_phone, parse_id_number, parse_phone
from yibao.runtime import Runtime

_TICKET_PURPOSE = "registration-password"


def _ticket_key(ticket: str) -> str:
    return "reg:" + hashlib.sha256(ticket.encode()).hexdigest()


async def start_registration(
    rt: Runtime,
    session: AsyncSession,
    phone: str,
    code: str,
    password: str,
    *,
    via: str,
    client: str,
) -> str:
    """Phone proven by its code and a strong password chosen: a ticket for the real-name step.

    The password waits encrypted in the short-lived store, so the last step can also check it
    against the ID number, which is only known then.
    """
    await refuse_if_throttled(rt, client)
    phone = parse_phone(phone)
    code = check_code_shape(code)
    check_password(password, phone=phone)
    if await repo.account_by_phone(session, rt.cipher, phone) is not None:
        raise AlreadyRegistered("该手机号已注册，请直接登录；忘记密码可通过“忘记密码”重置")
    await check_code(rt, session, phone, CodePurpose.REGISTER, code, client=client, via=via)
    ticket = secrets.token_urlsafe(24)
    sealed = rt.cipher.encrypt(password, purpose=_TICKET_PURPOSE)
    proven = rt.clock.now().isoformat()
    value = json.dumps({"phone": phone, "pw": base64.b64encode(sealed).decode(), "at": proven})
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
    issued = open_session(
        session,
        now,
        via=via,
        user_agent=user_agent,
        account_id=account.id,
        step_up_until=_step_up_from_sign_up(held, rt, now),
    )
    await session.commit()
    await rt.ephemeral.delete(_ticket_key(ticket))
    return replace(issued, device=devices.issue(rt.cipher, "person", account.id))


def _step_up_from_sign_up(held: dict[str, object], rt: Runtime, now: datetime) -> datetime | None:
    """The phone's SMS code, proven a minute ago at the code step, is the step-up's own method: it
    counts as one from the moment it was proven (the window is not stretched by the real-name step),
    so the first 医保查询 after sign-up asks for no second code."""
    proven = held.get("at")
    if not isinstance(proven, str):
        return None
    until = datetime.fromisoformat(proven) + policy_of(rt.settings).step_up_window
    return until if until > now else None


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
