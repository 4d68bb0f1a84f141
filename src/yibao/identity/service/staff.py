"""Staff accounts: created by an operator, signed in with password + TOTP."""

from __future__ import annotations

import base64
import binascii
from dataclasses import replace

import pyotp
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.identity import repository as repo
from yibao.identity.domain import (
    SecurityEventKind,
    SignInFailed,
    StaffExists,
    check_password,
    parse_roles,
)
from yibao.identity.service.common import (
    IssuedSession,
    clear_wrong_passwords,
    count_failure,
    count_wrong_password,
    hash_password,
    open_session,
    password_lock,
    password_matches,
    refuse_if_throttled,
)
from yibao.identity.tables import StaffMember
from yibao.kernel.errors import InvalidInput
from yibao.runtime import Runtime

TOTP_PURPOSE = "staff-totp"
STAFF_REFUSED_MESSAGE = "用户名、密码或动态口令错误"
ISSUER = "yibao 医保经办"
# RFC 4226 §4 asks for 160-bit shared secrets; pyotp (≥ 2.10) refuses secrets under 112 bits at
# the first code, which once made every demo staff sign-in fail with a 500.
TOTP_SECRET_MIN_BYTES = 20


def checked_totp_secret(secret: str) -> str:
    """A TOTP secret given by an operator, in base32, of at least 160 bits."""
    cleaned = secret.replace(" ", "").upper()
    try:
        raw = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except binascii.Error:
        raise InvalidInput("动态口令密钥须为 Base32 编码（A–Z、2–7）") from None
    if len(raw) < TOTP_SECRET_MIN_BYTES:
        raise InvalidInput("动态口令密钥至少 160 位（32 个 Base32 字符）")
    return cleaned


async def create_staff(
    rt: Runtime,
    session: AsyncSession,
    *,
    username: str,
    name: str,
    password: str,
    roles: list[str],
    office: str,
    totp_secret: str | None = None,
) -> tuple[StaffMember, str]:
    """Returns the member and the TOTP secret to load into an authenticator app."""
    username = username.strip().lower()
    if not username or not username.replace("_", "").replace(".", "").isalnum():
        raise InvalidInput("用户名只能包含字母、数字、点和下划线")
    if not name.strip():
        raise InvalidInput("请填写姓名")
    check_password(password)
    parsed = parse_roles(roles)
    if await repo.staff_by_username(session, username) is not None:
        raise StaffExists(f"用户名 {username} 已存在")
    secret = checked_totp_secret(totp_secret) if totp_secret else pyotp.random_base32()
    now = rt.clock.now()
    member = StaffMember(
        username=username,
        name=name.strip(),
        password_hash=hash_password(password),
        totp_secret_enc=rt.cipher.encrypt(secret, purpose=TOTP_PURPOSE),
        roles=",".join(sorted(parsed)),
        office=office.strip() or "医保经办大厅",
        active=True,
        failed_count=0,
        last_totp_step=0,
        created_at=now,
    )
    session.add(member)
    await session.flush()
    repo.record_event(
        session,
        SecurityEventKind.STAFF_CREATED,
        now,
        channel="cli",
        staff_id=member.id,
        roles=member.roles,
    )
    await session.commit()
    return member, secret


def provisioning_uri(username: str, secret: str) -> str:
    return str(pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER))


async def staff_sign_in(
    rt: Runtime,
    session: AsyncSession,
    *,
    username: str,
    password: str,
    totp_code: str,
    client: str,
    ua: str = "",
    device: str = "",
) -> IssuedSession:
    """Refused alike, after the same work, for an unknown username, a wrong password or code, and
    a try held back by the lockout; the lockout holds back untrusted devices only, as for people
    (identity/devices.py), so a guessed username cannot lock the clerk out of their own desk."""
    await refuse_if_throttled(rt, client)
    member = await repo.staff_by_username(session, username.strip().lower(), lock=True)
    if member is None or not member.active:
        password_matches(None, password)
        if await count_failure(rt, session, client, "staff"):
            await session.commit()
        raise SignInFailed(STAFF_REFUSED_MESSAGE)
    now = rt.clock.now()
    lock = await password_lock(rt, "staff", member, device)
    if lock.state.is_locked(now):
        password_matches(None, password)
        if await count_failure(rt, session, client, "staff"):
            await session.commit()
        raise SignInFailed(STAFF_REFUSED_MESSAGE)
    secret = rt.cipher.decrypt(member.totp_secret_enc, purpose=TOTP_PURPOSE)
    totp = pyotp.TOTP(secret)
    step = int(now.timestamp()) // totp.interval
    code = totp_code.strip()
    # ±1 step for clock drift; a step already used cannot be used again (no replay).
    matched = next(
        (
            s
            for s in (step - 1, step, step + 1)
            if s > member.last_totp_step and totp.generate_otp(s) == code
        ),
        None,
    )
    if not password_matches(member.password_hash, password) or matched is None:
        state = await count_wrong_password(rt, lock, now)
        trust = "trusted" if lock.nonce else "untrusted"
        repo.record_event(
            session,
            SecurityEventKind.SIGN_IN_FAILED,
            now,
            channel="staff",
            staff_id=member.id,
            device=trust,
        )
        if state.is_locked(now):
            repo.record_event(
                session,
                SecurityEventKind.LOCKED,
                now,
                channel="staff",
                staff_id=member.id,
                until=state.locked_until,
                device=trust,
            )
        await count_failure(rt, session, client, "staff")
        await session.commit()
        raise SignInFailed(STAFF_REFUSED_MESSAGE)
    member.last_totp_step = matched
    device_token = await clear_wrong_passwords(rt, "staff", member, lock.nonce, now)
    repo.record_event(
        session, SecurityEventKind.SIGN_IN_OK, now, channel="staff", staff_id=member.id
    )
    issued = open_session(session, now, via="cookie", user_agent=ua, staff_id=member.id)
    await session.commit()
    return replace(issued, device=device_token)


__all__ = ["STAFF_REFUSED_MESSAGE", "create_staff", "provisioning_uri", "staff_sign_in"]
