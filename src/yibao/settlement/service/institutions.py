"""Designated institutions: add, list, suspend, rotate the paasToken, gateway check, 9001 sign-in."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.db.ephemeral import EphemeralStore
from yibao.enrolment import repository as enrolment_repository
from yibao.kernel.clock import Clock, china_today
from yibao.kernel.errors import PermissionDenied
from yibao.kernel.pii import PersonalDataCipher
from yibao.settlement import repository
from yibao.settlement.domain import (
    Caller,
    InstitutionExists,
    InstitutionStatus,
    InstitutionSuspended,
    InvalidInstitution,
    UnknownInstitution,
    parse_institution_code,
)
from yibao.settlement.tables import Institution

TOKEN_PURPOSE = "paas_token"  # noqa: S105 - a purpose label, not a secret
# The gateway's window: a timestamp further off is refused, and a nonce is remembered this long.
SIGNATURE_WINDOW = timedelta(seconds=300)


class GatewayRefused(PermissionDenied):
    code = "gateway_refused"


class SignInRequired(PermissionDenied):
    code = "sign_in_required"


@dataclass(frozen=True, slots=True)
class NewInstitution:
    fixmedins_code: str
    name: str
    admdvs: str
    level: str | None = None
    token: str | None = None  # demo data passes a fixed one; otherwise made here


@dataclass(frozen=True, slots=True)
class Credentials:
    institution: Institution
    token: str  # shown once


def _seal(cipher: PersonalDataCipher, institution: Institution, token: str) -> None:
    institution.token_enc = cipher.encrypt(token, purpose=TOKEN_PURPOSE)
    institution.token_hash = cipher.lookup_hash(token, purpose=TOKEN_PURPOSE)


def signature(timestamp: str, token: str, nonce: str) -> str:
    """The national gateway's x-tif-signature: hex SHA-256 of timestamp+token+nonce+timestamp."""
    return hashlib.sha256(f"{timestamp}{token}{nonce}{timestamp}".encode()).hexdigest()


async def add_institution(
    session: AsyncSession, cipher: PersonalDataCipher, clock: Clock, new: NewInstitution
) -> Credentials:
    code = parse_institution_code(new.fixmedins_code)
    name = new.name.strip()
    if not (2 <= len(name) <= 100):
        raise InvalidInstitution("机构名称应为2到100个字")
    region = await enrolment_repository.region(session, new.admdvs.strip())
    if region.admdvs[:2] != code.admdvs[:2]:
        raise InvalidInstitution(
            f"机构编码 {code.value} 的区划 {code.admdvs} 不在统筹区 {region.admdvs} 所在省份"
        )
    if await repository.institution_by_code(session, code.value) is not None:
        raise InstitutionExists(f"定点医药机构 {code.value} 已存在")
    now = clock.now()
    token = new.token or secrets.token_hex(16)
    institution = Institution(
        fixmedins_code=code.value,
        name=name,
        kind=code.kind.value,
        admdvs=region.admdvs,
        level=(new.level or "").strip() or None,
        status=InstitutionStatus.ACTIVE.value,
        paasid=code.value.lower(),
        created_at=now,
        updated_at=now,
    )
    _seal(cipher, institution, token)
    session.add(institution)
    await session.commit()
    return Credentials(institution, token)


async def list_institutions(
    session: AsyncSession, *, admdvs: str | None = None, kind: str | None = None
) -> list[Institution]:
    return await repository.institutions(session, admdvs=admdvs, kind=kind)


async def _existing(session: AsyncSession, code: str) -> Institution:
    value = parse_institution_code(code).value
    institution = await repository.institution_by_code(session, value, lock=True)
    if institution is None:
        raise UnknownInstitution(f"没有定点医药机构 {value}")
    return institution


async def suspend_institution(session: AsyncSession, code: str, clock: Clock) -> Institution:
    institution = await _existing(session, code)
    institution.status = InstitutionStatus.SUSPENDED.value
    institution.sign_no = None
    institution.updated_at = clock.now()
    await session.commit()
    repository.forget_institution(session, institution.paasid)
    return institution


async def rotate_token(
    session: AsyncSession, cipher: PersonalDataCipher, code: str, clock: Clock
) -> Credentials:
    institution = await _existing(session, code)
    token = secrets.token_hex(16)
    _seal(cipher, institution, token)
    institution.sign_no = None  # the old token's sign-in ends with it
    institution.updated_at = clock.now()
    await session.commit()
    repository.forget_institution(session, institution.paasid)
    return Credentials(institution, token)


def caller_of(institution: Institution) -> Caller:
    return Caller(
        id=institution.id,
        fixmedins_code=institution.fixmedins_code,
        name=institution.name,
        kind=institution.kind,
        admdvs=institution.admdvs,
        sign_no=institution.sign_no,
        sign_day=institution.sign_day,
    )


async def caller_by_code(session: AsyncSession, code: str) -> Caller:
    institution = await repository.institution_by_code(session, parse_institution_code(code).value)
    if institution is None:
        raise UnknownInstitution(f"没有定点医药机构 {code}")
    if institution.status != InstitutionStatus.ACTIVE:
        raise InstitutionSuspended(f"定点医药机构 {institution.fixmedins_code} 已暂停医保结算资格")
    return caller_of(institution)


async def verify_gateway(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    clock: Clock,
    *,
    paasid: str | None,
    timestamp: str | None,
    nonce: str | None,
    signed: str | None,
) -> Caller:
    """Check the x-tif-* headers the way the national gateway does; returns the caller.

    Reads only: the nonce is remembered afterwards (`remember_nonce`), once the signature has
    shown the caller holds the token, so strangers cannot fill the store.
    """
    missing = [
        name
        for name, value in (
            ("x-tif-paasid", paasid),
            ("x-tif-timestamp", timestamp),
            ("x-tif-nonce", nonce),
            ("x-tif-signature", signed),
        )
        if not value
    ]
    if missing:
        raise GatewayRefused(f"网关认证失败：缺少请求头 {', '.join(missing)}")
    assert paasid and timestamp and nonce and signed
    # ASCII digits only: str.isdigit() also takes '²' (which int() refuses) and other scripts'
    # digits (which int() reads); and a bounded length, as int() of thousands of digits raises.
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise GatewayRefused("网关认证失败：x-tif-timestamp 应为 Unix 秒数")
    drift = abs(clock.now().timestamp() - int(timestamp))
    if drift > SIGNATURE_WINDOW.total_seconds():
        raise GatewayRefused(
            f"网关认证失败：x-tif-timestamp 与服务器时间相差 {int(drift)} 秒，超过 300 秒"
        )
    if len(nonce) > 64:
        raise GatewayRefused("网关认证失败：x-tif-nonce 过长（最多64位）")
    entry = await repository.gateway_entry(session, paasid)
    if entry is not None and not _signed_by(cipher, entry, timestamp, nonce, signed):
        # This process may hold a token rotated since: read the row again before refusing.
        entry = await repository.gateway_entry(session, paasid, fresh=True)
    if entry is None:
        raise GatewayRefused(f"网关认证失败：未知的 x-tif-paasid {paasid}")
    if not _signed_by(cipher, entry, timestamp, nonce, signed):
        raise GatewayRefused("网关认证失败：x-tif-signature 签名不正确")
    if entry.status != InstitutionStatus.ACTIVE:
        raise InstitutionSuspended(f"定点医药机构 {entry.caller.fixmedins_code} 已暂停医保结算资格")
    return entry.caller


def _signed_by(
    cipher: PersonalDataCipher,
    entry: repository.GatewayEntry,
    timestamp: str,
    nonce: str,
    signed: str,
) -> bool:
    token = cipher.decrypt(entry.token_enc, purpose=TOKEN_PURPOSE)
    return hmac.compare_digest(signature(timestamp, token, nonce), signed.strip().lower())


def _nonce_key(paasid: str, nonce: str) -> str:
    return f"fsi-nonce:{paasid}:{nonce}"


async def remember_nonce(
    ephemeral: EphemeralStore, paasid: str, nonce: str, *, session: AsyncSession | None = None
) -> None:
    """Refuse a nonce seen within the window (rule 11: every process sees it).

    Remembered for twice the window, so no replay fits inside it. With `session`, the nonce is
    written in the message's own transaction (no connection or commit of its own); a message
    that then fails must call `keep_nonce` after its rollback, so its nonce stays spent too.
    """
    key = _nonce_key(paasid, nonce)
    if session is None:
        claimed = await ephemeral.add(key, "1", SIGNATURE_WINDOW * 2)
    else:
        claimed = await ephemeral.add_in(session, key, "1", SIGNATURE_WINDOW * 2)
    if not claimed:
        raise GatewayRefused("网关认证失败：x-tif-nonce 已使用过（疑似重放请求）")


async def keep_nonce(ephemeral: EphemeralStore, paasid: str, nonce: str) -> None:
    """After a rollback: the nonce of a message that failed is spent all the same."""
    await ephemeral.add(_nonce_key(paasid, nonce), "1", SIGNATURE_WINDOW * 2)


def check_sign_no(caller: Caller, sign_no: str | None, clock: Clock) -> None:
    if not sign_no:
        raise SignInRequired("缺少 sign_no：请先调用 9001 签到")
    if caller.sign_no != sign_no or caller.sign_day != china_today(clock):
        raise SignInRequired("sign_no 无效或已过期：请重新调用 9001 签到")


async def signed_in(
    session: AsyncSession, caller: Caller, sign_no: str | None, clock: Clock
) -> Caller:
    """`check_sign_no`, reading the institution again when the cached sign-in disagrees (another
    process may have answered today's 9001)."""
    try:
        check_sign_no(caller, sign_no, clock)
    except SignInRequired:
        entry = await repository.gateway_entry(session, caller.fixmedins_code.lower(), fresh=True)
        if entry is None or not sign_no:
            raise
        check_sign_no(entry.caller, sign_no, clock)
        return entry.caller
    return caller


async def sign_in(session: AsyncSession, caller: Caller, clock: Clock) -> str:
    """9001: the day's sign_no (the same one again on the same day). Does not commit: the
    interface commits it with the answer to the message."""
    institution = await repository.institution_by_code(session, caller.fixmedins_code, lock=True)
    if institution is None:
        raise UnknownInstitution(f"没有定点医药机构 {caller.fixmedins_code}")
    today = china_today(clock)
    if institution.sign_no is None or institution.sign_day != today:
        institution.sign_no = f"{today:%Y%m%d}{secrets.randbelow(10**12):012d}"
        institution.sign_day = today
        institution.updated_at = clock.now()
        await session.flush()
        repository.forget_institution(session, institution.paasid)
    return institution.sign_no


async def sign_out(session: AsyncSession, caller: Caller, sign_no: str, clock: Clock) -> None:
    """9002: end the day's sign-in; the next message that needs it must sign in again (9001).
    Does not commit (the interface commits it with the answer). Another process may accept the
    old sign_no until its cache of the institution expires (a few seconds, db/reference.py)."""
    institution = await repository.institution_by_code(session, caller.fixmedins_code, lock=True)
    if institution is None:
        raise UnknownInstitution(f"没有定点医药机构 {caller.fixmedins_code}")
    if institution.sign_no is None or institution.sign_no != sign_no.strip():
        raise SignInRequired(f"sign_no {sign_no} 不是本机构当前的签到号，无需签退")
    institution.sign_no = None
    institution.sign_day = None
    institution.updated_at = clock.now()
    await session.flush()
    repository.forget_institution(session, institution.paasid)
