"""Identification at a self-service kiosk (自助查询机): the social-security card in the reader and
its 医保卡密码 typed on the kiosk's keypad, the 医保电子凭证 QR from the person's phone, or the ID
number and an SMS code sent to the phone the insurer has for it.

The card password is checked by the one check every channel uses (`card_password.py`): one
lockout counted per account whichever channel the tries came from, the same per-address limit.
Success opens a kiosk session (written through the kiosks feature's repository, its one writer)
whose token only the kiosk's browser holds, in a cookie."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment import repository as enrolment_repository
from yibao.identity.domain import (
    CodePurpose,
    RateLimited,
    SignInFailed,
    check_code_shape,
)
from yibao.identity.service.card_password import verify_card_password
from yibao.identity.service.common import (
    check_code,
    count_failure,
    policy_of,
    queue_code,
    refuse_if_throttled,
    refuse_sms_if_spent,
)
from yibao.kernel.clock import china_today
from yibao.kernel.errors import InvalidInput
from yibao.kernel.idnumber import parse_id_number
from yibao.kernel.ids import new_token
from yibao.kiosks import repository as kiosks
from yibao.kiosks.domain import CardRefused, CardState, EndReason, Method, key_digest
from yibao.runtime import Runtime
from yibao.settlement import repository as settlement_repository
from yibao.settlement.domain import EcTokenUsed, InvalidEcToken

VIA = "kiosk"


async def _open(
    rt: Runtime, session: AsyncSession, kiosk_id: str, person_id: int, method: Method
) -> str:
    now = rt.clock.now()
    # One person at a time per kiosk: whatever was open there ends now.
    await kiosks.end_sessions(session, kiosk_id, EndReason.REPLACED, now)
    token = new_token(32)
    kiosks.open_session(
        session,
        kiosk_id=kiosk_id,
        person_id=person_id,
        method=method,
        token_hash=key_digest(token),
        now=now,
        today=china_today(rt.clock),
    )
    return token


async def identify_with_card(
    rt: Runtime, session: AsyncSession, *, kiosk_key: str, card_password: str, client: str
) -> str:
    """The card the kiosk's reader holds now, and its password: a session token, or refused."""
    await refuse_if_throttled(rt, client)
    kiosk = await kiosks.authenticated_kiosk(session, kiosk_key)
    if kiosk.card_state != CardState.PRESENT or kiosk.card_person_id is None:
        raise CardRefused("请先插入社保卡")
    password = card_password.strip()
    if not password.isdigit() or len(password) != 6:
        raise InvalidInput("医保卡密码是 6 位数字")
    holder = await verify_card_password(
        rt,
        session,
        person_id=kiosk.card_person_id,
        card_password=password,
        via=VIA,
        client=client,
        not_set="您还没有设置医保卡密码，请到医保窗口设置，或改用医保电子凭证扫码",
        kiosk=kiosk.id,
    )
    person_id = holder.person_id
    token = await _open(rt, session, kiosk.id, person_id, Method.CARD)
    await session.commit()
    return token


async def identify_with_voucher(
    rt: Runtime, session: AsyncSession, *, kiosk_key: str, ec_token: str, client: str
) -> str:
    """The 医保电子凭证 QR shown on the person's phone, scanned at the kiosk: bound to that
    person, live for minutes, and spent here like a payment spends it (one use)."""
    await refuse_if_throttled(rt, client)
    kiosk = await kiosks.authenticated_kiosk(session, kiosk_key)
    now = rt.clock.now()
    # The same digest settlement keeps (settlement/service/vouchers.py `token_hash`).
    digest = key_digest(ec_token) if 0 < len(ec_token.strip()) <= 200 else ""
    found = await settlement_repository.ec_token(session, digest) if digest else None
    if found is None or found.expires_at <= now:
        if await count_failure(rt, session, client, VIA):
            await session.commit()
        raise InvalidEcToken("二维码无效或已过期，请在手机上刷新医保电子凭证后重新扫码")
    if found.used_at is not None:
        raise EcTokenUsed("这个二维码已经用过，请在手机上刷新医保电子凭证后重新扫码")
    person_id = found.person_id
    spent = await settlement_repository.spend_ec_token(
        session, digest, person_id, f"kiosk:{kiosk.id}"[:30], now
    )
    if not spent:
        raise EcTokenUsed("这个二维码已经用过，请在手机上刷新医保电子凭证后重新扫码")
    token = await _open(rt, session, kiosk.id, person_id, Method.VOUCHER)
    await session.commit()
    return token


# --- ID number + SMS code to the registered phone ------------------------------------------------

SMS_SENT = "如该身份证号已参保并登记手机号，验证码已发送到该手机，请输入6位验证码"


def _attempt_key(kiosk_id: str, attempt: str) -> str:
    return f"kiosk-sms:{kiosk_id}:{key_digest(attempt)}"


async def send_kiosk_code(
    rt: Runtime, session: AsyncSession, *, kiosk_key: str, id_number: str, client: str
) -> str:
    """A sign-in code to the phone the insurer has for this ID number. The answer (an attempt
    token for the next step) is the same whether the ID number is enrolled or not, and the
    screen never shows the phone: whoever stands at the kiosk may type anyone's ID number."""
    kiosk = await kiosks.authenticated_kiosk(session, kiosk_key)
    await refuse_sms_if_spent(rt, session, client, VIA)
    value = parse_id_number(id_number).value
    attempt = new_token(24)
    person = await enrolment_repository.person_by_id_number(session, rt.cipher, value)
    phone = enrolment_repository.decrypt_phone(rt.cipher, person) if person else None
    if person is None or phone is None:
        return attempt
    try:
        await queue_code(rt, session, phone, CodePurpose.SIGN_IN, person.id)
    except RateLimited:
        return attempt  # told like any other: the phone's own limits stay silent here
    ttl = policy_of(rt.settings).code_ttl
    await rt.ephemeral.put(_attempt_key(kiosk.id, attempt), str(person.id), ttl)
    await session.commit()
    return attempt


async def identify_with_code(
    rt: Runtime, session: AsyncSession, *, kiosk_key: str, attempt: str, code: str, client: str
) -> str:
    await refuse_if_throttled(rt, client)
    kiosk = await kiosks.authenticated_kiosk(session, kiosk_key)
    code = check_code_shape(code)
    stored = await rt.ephemeral.get(_attempt_key(kiosk.id, attempt)) if attempt else None
    person = await enrolment_repository.person(session, int(stored)) if stored else None
    phone = enrolment_repository.decrypt_phone(rt.cipher, person) if person else None
    if person is None or phone is None:
        if await count_failure(rt, session, client, VIA):
            await session.commit()
        raise SignInFailed("验证码不正确或已过期，请重新获取")
    await check_code(rt, session, phone, CodePurpose.SIGN_IN, code, client=client, via=VIA)
    await rt.ephemeral.delete(_attempt_key(kiosk.id, attempt))
    token = await _open(rt, session, kiosk.id, person.id, Method.SMS)
    await session.commit()
    return token
