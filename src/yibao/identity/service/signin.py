"""Sign-in (password, SMS code, passkey), step-up verification, passkeys and sessions."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.identity import repository as repo
from yibao.identity.domain import (
    PASSWORD_REFUSED_MESSAGE,
    SIGN_IN_FAILED_MESSAGE,
    CodePurpose,
    SecurityEventKind,
    SignInFailed,
    UnknownAccount,
    check_code_shape,
    classify_identifier,
)
from yibao.identity.service.card_password import verify_card_password
from yibao.identity.service.common import (
    HASHER,
    IssuedSession,
    Resolved,
    check_code,
    clear_wrong_passwords,
    count_failure,
    count_wrong_password,
    hash_password,
    open_session,
    password_lock,
    password_matches,
    policy_of,
    refuse_if_throttled,
    token_digest,
)
from yibao.identity.tables import OnlineAccount
from yibao.kernel.idnumber import parse_phone
from yibao.runtime import Runtime

# A session's last use is written at most once per tenth of its idle timeout (90 s of 15 min):
# every request checks its session, and each touch is a committed write, so a busy API would
# otherwise spend most of its database writes on them. A session may so end up to a tenth of
# its timeout early, never late.
_TOUCH_FRACTION = 10


async def welcome(
    rt: Runtime,
    session: AsyncSession,
    account: OnlineAccount,
    via: str,
    ua: str,
    method: str,
    nonce: str | None = None,
) -> IssuedSession:
    """`nonce`: the trusted device the password came from (None: any other sign-in)."""
    now = rt.clock.now()
    device = await clear_wrong_passwords(rt, "person", account, nonce, now)
    repo.record_event(
        session,
        SecurityEventKind.SIGN_IN_OK,
        now,
        channel=via,
        account_id=account.id,
        person_id=account.person_id,
        method=method,
    )
    issued = open_session(session, now, via=via, user_agent=ua, account_id=account.id)
    await session.commit()
    return replace(issued, device=device)


async def sign_in_with_password(
    rt: Runtime,
    session: AsyncSession,
    identifier: str,
    password: str,
    *,
    via: str,
    client: str,
    ua: str = "",
    device: str = "",
) -> IssuedSession:
    """`client` is the caller's network address, as the channel saw it (for the address limit);
    `device` the device token a sign-in handed this browser or app before (identity/devices.py).

    An unknown identifier, a wrong password and a try held back by the lockout get one answer,
    after the same work: the lockout tells nobody which phones have accounts, and an attacker
    who spent an account's untrusted tries cannot lock its owner's own device out."""
    await refuse_if_throttled(rt, client)
    parsed = classify_identifier(identifier)
    found = await repo.account_by_identifier(session, rt.cipher, *parsed) if parsed else None
    if found is None:
        password_matches(None, password)  # same work as a real check: no timing tell
        # Stuffing lists are mostly identifiers with no account here: they count like any other.
        if await count_failure(rt, session, client, via):
            await session.commit()
        raise SignInFailed(PASSWORD_REFUSED_MESSAGE)
    account = await repo.account(session, found.id, lock=True)
    assert account is not None
    now = rt.clock.now()
    lock = await password_lock(rt, "person", account, device)
    if lock.state.is_locked(now):
        password_matches(None, password)  # held back: never checked, answered as a wrong one
        if await count_failure(rt, session, client, via):
            await session.commit()
        raise SignInFailed(PASSWORD_REFUSED_MESSAGE)
    if password_matches(account.password_hash, password):
        if HASHER.check_needs_rehash(account.password_hash):
            account.password_hash = hash_password(password)
        return await welcome(rt, session, account, via, ua, "password", lock.nonce)
    state = await count_wrong_password(rt, lock, now)
    trust = "trusted" if lock.nonce else "untrusted"
    repo.record_event(
        session,
        SecurityEventKind.SIGN_IN_FAILED,
        now,
        channel=via,
        account_id=account.id,
        person_id=account.person_id,
        method="password",
        device=trust,
    )
    if state.is_locked(now):
        repo.record_event(
            session,
            SecurityEventKind.LOCKED,
            now,
            channel=via,
            account_id=account.id,
            person_id=account.person_id,
            until=state.locked_until,
            device=trust,
        )
    await count_failure(rt, session, client, via)
    await session.commit()
    raise SignInFailed(PASSWORD_REFUSED_MESSAGE)


async def sign_in_with_code(
    rt: Runtime,
    session: AsyncSession,
    phone: str,
    code: str,
    *,
    via: str,
    client: str,
    ua: str = "",
) -> IssuedSession:
    await refuse_if_throttled(rt, client)
    phone = parse_phone(phone)
    code = check_code_shape(code)
    # The password lockout does not hold back a code: it proves the phone, not a guess at the
    # password, and its own tries and daily limit bound guessing (docs/identity.md).
    found = await repo.account_by_phone(session, rt.cipher, phone)
    account_id = found.id if found else None
    # An unknown phone never had a code stored, so it fails exactly like an expired code.
    await check_code(rt, session, phone, CodePurpose.SIGN_IN, code, client=client, via=via)
    if account_id is None:
        raise SignInFailed(SIGN_IN_FAILED_MESSAGE)
    account = await repo.account(session, account_id, lock=True)
    assert account is not None
    return await welcome(rt, session, account, via, ua, "sms")


# --- step-up -----------------------------------------------------------------------------------


async def grant_step_up(
    rt: Runtime,
    session: AsyncSession,
    session_id: str,
    account_id: int,
    method: str,
    via: str,
    *,
    event: bool = True,
) -> None:
    row = await repo.sign_in_session(session, session_id)
    if row is None or row.account_id != account_id or row.ended_at is not None:
        raise UnknownAccount("登录已失效，请重新登录")
    now = rt.clock.now()
    row.step_up_until = now + policy_of(rt.settings).step_up_window
    if event:
        repo.record_event(
            session,
            SecurityEventKind.STEP_UP_OK,
            now,
            channel=via,
            account_id=account_id,
            method=method,
        )
    await session.commit()


async def step_up_with_code(
    rt: Runtime,
    session: AsyncSession,
    *,
    session_id: str,
    account_id: int,
    code: str,
    via: str,
    client: str,
) -> None:
    await refuse_if_throttled(rt, client)
    code = check_code_shape(code)
    account = await repo.account(session, account_id)
    if account is None:
        raise UnknownAccount("账户不存在")
    phone = repo.decrypt_account_phone(rt.cipher, account)
    await check_code(rt, session, phone, CodePurpose.STEP_UP, code, client=client, via=via)
    await grant_step_up(rt, session, session_id, account_id, "sms", via)


async def step_up_with_card_password(
    rt: Runtime,
    session: AsyncSession,
    *,
    session_id: str,
    account_id: int,
    card_password: str,
    via: str,
    client: str,
) -> None:
    await verify_card_password(
        rt,
        session,
        account_id=account_id,
        card_password=card_password,
        via=via,
        client=client,
        not_set="您还没有设置医保卡密码，请先设置或改用短信验证码",
    )
    # The card password's own STEP_UP_OK is recorded: this only opens the window.
    await grant_step_up(rt, session, session_id, account_id, "card_password", via, event=False)


# --- sessions ----------------------------------------------------------------------------------


def touch_interval(idle_timeout: timedelta) -> timedelta:
    """How stale a session's recorded last use may get before a request writes it anew."""
    return idle_timeout / _TOUCH_FRACTION


async def resolve_session(
    rt: Runtime, session: AsyncSession, token: str, *, kind: str
) -> Resolved | None:
    """The principal behind a cookie or bearer token, if the session is alive; marks its use."""
    if not token or len(token) > 200:
        return None
    row = await repo.session_with_principal(session, token_digest(token))
    if row is None or row.kind != kind or row.ended_at is not None:
        return None
    now = rt.clock.now()
    policy = policy_of(rt.settings)
    idle = policy.staff_idle_timeout if kind == "staff" else policy.idle_timeout
    if now - row.last_seen_at >= idle:
        await repo.expire_session(session, row.id, now)
        await session.commit()
        return None
    if now - row.last_seen_at >= touch_interval(idle):
        await repo.touch_session(session, row.id, now)
        await session.commit()
    if kind == "person":
        if row.person is None:
            return None
        return Resolved(
            kind="person",
            session_id=row.id,
            via=row.via,
            display_name=row.person.name,
            account_id=row.person.account_id,
            person_id=row.person.person_id,
            step_up_until=row.step_up_until,
        )
    if row.staff is None or not row.staff.active:
        return None
    return Resolved(
        kind="staff",
        session_id=row.id,
        via=row.via,
        display_name=row.staff.name,
        staff_id=row.staff.staff_id,
        username=row.staff.username,
        roles=frozenset(row.staff.roles.split(",")),
        office=row.staff.office,
    )


def caller_check(rt: Runtime, token: str) -> repo.CallerCheck | None:
    """What a read of the person's own data checks of its bearer session in its own statement
    (`repo.CALLER_CTE`); None for a token no session can have."""
    if not token or len(token) > 200:
        return None
    now = rt.clock.now()
    return repo.CallerCheck(token_digest(token), now, now - policy_of(rt.settings).idle_timeout)


async def confirm_caller(rt: Runtime, session: AsyncSession, caller: repo.CheckedCaller) -> None:
    """After a read that found its caller through `caller_check`: marks the session's use, as
    `resolve_session` does (at most once per touch interval, so nearly always nothing)."""
    now = rt.clock.now()
    if now - caller.last_seen_at >= touch_interval(policy_of(rt.settings).idle_timeout):
        await repo.touch_session(session, caller.session_id, now)
        await session.commit()


async def sign_out(rt: Runtime, session: AsyncSession, session_id: str, *, via: str) -> None:
    row = await repo.sign_in_session(session, session_id)
    if row is None or row.ended_at is not None:
        return
    now = rt.clock.now()
    row.ended_at = now
    repo.record_event(
        session,
        SecurityEventKind.SIGNED_OUT,
        now,
        channel=via,
        account_id=row.account_id,
        staff_id=row.staff_id,
    )
    await session.commit()


async def sign_out_everywhere(
    rt: Runtime, session: AsyncSession, account_id: int, *, via: str
) -> int:
    now = rt.clock.now()
    ended = await repo.end_sessions(session, now, account_id=account_id)
    repo.record_event(
        session,
        SecurityEventKind.SIGNED_OUT_EVERYWHERE,
        now,
        channel=via,
        account_id=account_id,
        sessions=ended,
    )
    await session.commit()
    return ended
