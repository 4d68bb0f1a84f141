"""What the identity use cases share: the policy from settings, password hashing, sessions, SMS."""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.config import Settings
from yibao.identity import codes, devices, throttle
from yibao.identity import repository as repo
from yibao.identity.domain import (
    CodePurpose,
    CodeRejected,
    IdentityPolicy,
    LockState,
    RateLimited,
    SecurityEventKind,
    address_window,
    after_failure,
    after_success,
    client_key,
    code_sent_text,
    code_text,
    new_code,
    sms_throttled_message,
    throttled_message,
)
from yibao.identity.tables import OnlineAccount, SignInSession, StaffMember
from yibao.kernel.clock import to_china
from yibao.kernel.idnumber import mask_phone
from yibao.notifications import repository as outbox
from yibao.notifications.domain import SEALED_BODY_PURPOSE, Channel
from yibao.runtime import Runtime

# argon2id at OWASP's floor (19 MiB, t=2, p=1): strong, and quick enough for a busy sign-in page.
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY_HASH = HASHER.hash("not-a-password-1!")


def policy_of(settings: Settings) -> IdentityPolicy:
    return IdentityPolicy(
        code_ttl=timedelta(seconds=settings.sms_code_ttl_seconds),
        code_max_tries=settings.sms_code_max_tries,
        sms_min_interval=timedelta(seconds=settings.sms_min_interval_seconds),
        sms_daily_limit=settings.sms_daily_limit,
        max_failures=settings.lockout_max_failures,
        failure_window=timedelta(minutes=settings.lockout_window_minutes),
        lock_for=timedelta(minutes=settings.lockout_minutes),
        idle_timeout=timedelta(minutes=settings.session_idle_minutes),
        staff_idle_timeout=timedelta(minutes=settings.staff_session_idle_minutes),
        step_up_window=timedelta(minutes=settings.step_up_minutes),
        address_max_failures=settings.address_max_failures,
        address_window=timedelta(minutes=settings.address_window_minutes),
        address_max_sms=settings.address_max_sms,
    )


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def password_matches(stored: str | None, given: str) -> bool:
    try:
        return HASHER.verify(stored or _DUMMY_HASH, given) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def china_minute(moment: datetime) -> str:
    return to_china(moment).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True, slots=True)
class IssuedSession:
    token: str
    session_id: str
    device: str = ""  # the device token to hand back (identity/devices.py)


@dataclass(frozen=True, slots=True)
class Resolved:
    kind: str  # "person" | "staff"
    session_id: str
    via: str
    display_name: str
    account_id: int = 0
    person_id: int = 0
    step_up_until: datetime | None = None
    staff_id: int = 0
    username: str = ""
    roles: frozenset[str] = frozenset()
    office: str = ""


def open_session(
    session: AsyncSession,
    now: datetime,
    *,
    via: str,
    user_agent: str,
    account_id: int | None = None,
    staff_id: int | None = None,
    step_up_until: datetime | None = None,
) -> IssuedSession:
    token = secrets.token_urlsafe(32)
    digest = token_digest(token)
    session.add(
        SignInSession(
            id=digest,
            kind="person" if account_id is not None else "staff",
            account_id=account_id,
            staff_id=staff_id,
            via=via,
            created_at=now,
            last_seen_at=now,
            step_up_until=step_up_until,
            user_agent=user_agent[:200],
        )
    )
    return IssuedSession(token=token, session_id=digest)


async def queue_code(
    rt: Runtime, session: AsyncSession, phone: str, purpose: CodePurpose, person_id: int | None
) -> str:
    """Make a code, keep its hash, and put the SMS in the outbox of this transaction. Callers have
    counted the request against the client's address first (`refuse_sms_if_spent`)."""
    policy = policy_of(rt.settings)
    now = rt.clock.now()
    phone_hash = repo.phone_hash(rt.cipher, phone)
    await codes.reserve_sending(rt.ephemeral, phone_hash, now, policy)
    code = new_code()
    await codes.remember_code(rt.ephemeral, rt.cipher, phone_hash, purpose, code, now, policy)
    minutes = max(int(policy.code_ttl.total_seconds()) // 60, 1)
    await outbox.enqueue(
        session,
        channel=Channel.SMS,
        dedup_key=f"sms-code:{purpose.value}:{phone_hash[:16]}:{secrets.token_hex(8)}",
        subject=f"验证码（{purpose.value}）",
        # The code itself only sealed, and only until delivery (notifications/service.py).
        body=code_sent_text(purpose, minutes),
        body_enc=rt.cipher.encrypt(code_text(code, purpose, minutes), purpose=SEALED_BODY_PURPOSE),
        now=now,
        person_id=person_id,
        phone_enc=rt.cipher.encrypt(phone, purpose=repo.PHONE_PURPOSE),
        phone_masked=mask_phone(phone),
    )
    return mask_phone(phone)


async def check_code(
    rt: Runtime,
    session: AsyncSession,
    phone: str,
    purpose: CodePurpose,
    code: str,
    *,
    client: str,
    via: str,
    keep: bool = False,
) -> None:
    """Accept the code once; a refused one also counts against the client's address (and commits
    the security event when that used up the address's failures, nothing else). `keep`: the
    caller will `discard_code` once its own checks pass."""
    try:
        await codes.consume_code(
            rt.ephemeral,
            rt.cipher,
            repo.phone_hash(rt.cipher, phone),
            purpose,
            code,
            rt.clock.now(),
            policy_of(rt.settings),
            keep=keep,
        )
    except CodeRejected:
        if await count_failure(rt, session, client, via):
            await session.commit()
        raise


async def discard_code(rt: Runtime, phone: str, purpose: CodePurpose) -> None:
    await codes.discard_code(rt.ephemeral, repo.phone_hash(rt.cipher, phone), purpose)


# --- failures per client address (credential stuffing) ------------------------------------------


async def refuse_if_throttled(rt: Runtime, client: str) -> None:
    """Every use case that checks a password, an SMS code or a card password asks this first:
    an address that used up its failures is refused before anything is looked up or hashed."""
    now = rt.clock.now()
    until = await throttle.refused_until(rt.ephemeral, client, now, policy_of(rt.settings))
    if until is not None:
        raise refusal(throttled_message(china_minute(until)), until, now)


def seconds_until(until: datetime, now: datetime) -> int:
    """`Retry-After`'s whole seconds, rounded up and at least 1: a caller coming back when told is
    never refused again by the same limit."""
    return max(math.ceil((until - now).total_seconds()), 1)


def refusal(message: str, until: datetime, now: datetime) -> RateLimited:
    """A refusal that knows when the caller may come back: the edge answers `Retry-After`."""
    return RateLimited(message, until=until, retry_after=seconds_until(until, now))


# --- the password lockout, per device (identity/devices.py) ------------------------------------


@dataclass(frozen=True, slots=True)
class PasswordLock:
    """Whose count of wrong passwords a try spends: a trusted device's own (`nonce`), or the one
    all untrusted devices share on the account row (`nonce` None)."""

    kind: str  # "person" | "staff"
    row: OnlineAccount | StaffMember
    nonce: str | None
    state: LockState


async def password_lock(
    rt: Runtime, kind: str, row: OnlineAccount | StaffMember, device: str
) -> PasswordLock:
    """Callers hold the row's lock (`FOR UPDATE`) until they commit: racing tries take turns."""
    nonce = devices.trusted_nonce(rt.cipher, device, kind, row.id)
    if nonce is None:
        return PasswordLock(kind, row, None, repo.lock_state(row))
    state = await devices.lock_state(rt.ephemeral, kind, row.id, nonce)
    return PasswordLock(kind, row, nonce, state)


async def count_wrong_password(rt: Runtime, lock: PasswordLock, now: datetime) -> LockState:
    state = after_failure(lock.state, now, policy_of(rt.settings))
    if lock.nonce is None:
        repo.set_lock_state(lock.row, state)
    else:
        await devices.save(
            rt.ephemeral, lock.kind, lock.row.id, lock.nonce, state, policy_of(rt.settings)
        )
    return state


async def clear_wrong_passwords(
    rt: Runtime, kind: str, row: OnlineAccount | StaffMember, nonce: str | None, now: datetime
) -> str:
    """After a sign-in that succeeded: a trusted device's own count starts afresh; the untrusted
    count too unless it holds untrusted devices back right now (a sign-in by SMS code or passkey
    from a new device must not reopen password guessing to everyone else). Returns the new
    device token to hand back."""
    if nonce is not None:
        await devices.forget(rt.ephemeral, kind, row.id, nonce, policy_of(rt.settings))
    elif not repo.lock_state(row).is_locked(now):
        repo.set_lock_state(row, after_success())
    return devices.issue(rt.cipher, kind, row.id)


async def count_failure(rt: Runtime, session: AsyncSession, client: str, via: str) -> bool:
    """Count a failed check from this address. The failure that uses up the address's budget is
    recorded as a security event in the caller's transaction: True means the caller must commit
    (use cases that commit their failure anyway simply do)."""
    now = rt.clock.now()
    policy = policy_of(rt.settings)
    if not await throttle.count_failure(rt.ephemeral, client, now, policy):
        return False
    repo.record_event(
        session,
        SecurityEventKind.ADDRESS_THROTTLED,
        now,
        channel=via,
        client=client_key(client),
        failures=policy.address_max_failures,
        until=address_window(now, policy)[1],
    )
    return True


async def refuse_sms_if_spent(rt: Runtime, session: AsyncSession, client: str, via: str) -> None:
    """Every use case that sends an SMS code asks this first, and it counts the request: an
    address past its codes for this stretch is refused before anything is looked up, written or
    sent. The first refused request records the address as a security event, committed alone (the
    request that spent the budget may have sent nothing, or been refused for its phone)."""
    now = rt.clock.now()
    policy = policy_of(rt.settings)
    asked = await throttle.count_sms(rt.ephemeral, client, now, policy)
    until = throttle.sms_refused_until(asked, now, policy)
    if until is None:
        return
    if asked == policy.address_max_sms + 1:
        repo.record_event(
            session,
            SecurityEventKind.ADDRESS_SMS_THROTTLED,
            now,
            channel=via,
            client=client_key(client),
            codes=policy.address_max_sms,
            until=until,
        )
        await session.commit()
    raise refusal(sms_throttled_message(china_minute(until)), until, now)
