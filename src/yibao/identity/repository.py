"""Queries on online accounts, passkeys, sessions, staff and security events. Never commits."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.db.direct import Row, Sql, direct
from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.tables import Person
from yibao.identity.domain import IdentifierKind, LockState, SecurityEventKind
from yibao.identity.tables import (
    OnlineAccount,
    Passkey,
    SecurityEvent,
    SignInSession,
    StaffMember,
)
from yibao.kernel.pii import PersonalDataCipher

PHONE_PURPOSE = enrolment_repository.PHONE_PURPOSE


def phone_hash(cipher: PersonalDataCipher, phone: str) -> str:
    return cipher.lookup_hash(phone, purpose=PHONE_PURPOSE)


async def account(
    session: AsyncSession, account_id: int, *, lock: bool = False
) -> OnlineAccount | None:
    stmt = select(OnlineAccount).where(OnlineAccount.id == account_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def account_by_phone(
    session: AsyncSession, cipher: PersonalDataCipher, phone: str
) -> OnlineAccount | None:
    stmt = select(OnlineAccount).where(OnlineAccount.phone_hash == phone_hash(cipher, phone))
    return (await session.execute(stmt)).scalar_one_or_none()


async def account_of_person(session: AsyncSession, person_id: int) -> OnlineAccount | None:
    stmt = select(OnlineAccount).where(OnlineAccount.person_id == person_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def account_by_identifier(
    session: AsyncSession, cipher: PersonalDataCipher, kind: IdentifierKind, value: str
) -> OnlineAccount | None:
    if kind is IdentifierKind.PHONE:
        return await account_by_phone(session, cipher, value)
    if kind is IdentifierKind.ID_NUMBER:
        person = await enrolment_repository.person_by_id_number(session, cipher, value)
    else:
        stmt = select(Person).where(Person.card_no == value)
        person = (await session.execute(stmt)).scalar_one_or_none()
    if person is None:
        return None
    return await account_of_person(session, person.id)


def lock_state(row: OnlineAccount | StaffMember) -> LockState:
    return LockState(row.failed_count, row.first_failed_at, row.locked_until)


def set_lock_state(row: OnlineAccount | StaffMember, state: LockState) -> None:
    row.failed_count = state.failed_count
    row.first_failed_at = state.first_failed_at
    row.locked_until = state.locked_until


def decrypt_account_phone(cipher: PersonalDataCipher, row: OnlineAccount) -> str:
    return cipher.decrypt(row.phone_enc, purpose=PHONE_PURPOSE)


# --- sessions ----------------------------------------------------------------------------------


async def sign_in_session(session: AsyncSession, session_id: str) -> SignInSession | None:
    return await session.get(SignInSession, session_id)


# Every signed-in request asks this, so it is one statement on the driver (db/direct/): the
# session with the few columns of its person or staff member that the principal carries.
_SESSION_WITH_PRINCIPAL = Sql(
    """
    SELECT s.id, s.kind, s.via, s.last_seen_at, s.step_up_until, s.ended_at,
           a.id AS account_id, p.id AS person_id, p.name AS person_name,
           m.id AS staff_id, m.username, m.name AS staff_name, m.roles, m.office, m.active
    FROM sign_in_sessions s
    LEFT JOIN online_accounts a ON a.id = s.account_id
    LEFT JOIN persons p ON p.id = a.person_id
    LEFT JOIN staff_members m ON m.id = s.staff_id
    WHERE s.id = :session_id
    """,
    datetimes=("last_seen_at", "step_up_until", "ended_at"),
    booleans=("active",),
)
_TOUCH_SESSION = Sql("UPDATE sign_in_sessions SET last_seen_at = :now WHERE id = :session_id")
_EXPIRE_SESSION = Sql(
    "UPDATE sign_in_sessions SET ended_at = :now WHERE id = :session_id AND ended_at IS NULL"
)


# The bearer session behind a read of the person's own data (issue #16: the check and the
# page in one round trip). Identity hands it out as a CTE named `caller`, as ledger hands out
# its writes as steps; a read that starts with it keys itself on `caller.person_id` and returns
# `caller`'s columns, and finds no row at all unless the session is one the API lets through
# without writing anything first: a live, stepped-up person's bearer session, used recently.
# Anything else (unknown, ended, idle, not stepped up) takes the full check (`resolve_session`).
CALLER_CTE = """caller AS (
        SELECT s.id AS caller_session_id, s.last_seen_at AS caller_seen_at,
               s.step_up_until AS caller_step_up_until, a.id AS caller_account_id,
               a.person_id AS person_id
        FROM sign_in_sessions s JOIN online_accounts a ON a.id = s.account_id
        WHERE s.id = :caller_session_id AND s.kind = 'person' AND s.via = 'bearer'
          AND s.ended_at IS NULL AND s.last_seen_at > :caller_idle_since
          AND s.step_up_until > :caller_now)"""
CALLER_DATETIMES = ("caller_seen_at", "caller_step_up_until")


@dataclass(frozen=True, slots=True)
class CallerCheck:
    """The parameters of `CALLER_CTE` for one request."""

    session_id: str  # the token's digest
    now: datetime
    idle_since: datetime

    def params(self) -> dict[str, object]:
        return {
            "caller_session_id": self.session_id,
            "caller_now": self.now,
            "caller_idle_since": self.idle_since,
        }


@dataclass(frozen=True, slots=True)
class CheckedCaller:
    """`caller`'s columns as a read that started with `CALLER_CTE` returned them."""

    session_id: str
    last_seen_at: datetime
    step_up_until: datetime
    account_id: int
    person_id: int


def checked_caller(row: Row) -> CheckedCaller:
    return CheckedCaller(
        row["caller_session_id"],
        row["caller_seen_at"],
        row["caller_step_up_until"],
        row["caller_account_id"],
        row["person_id"],
    )


@dataclass(frozen=True, slots=True)
class SessionPerson:
    account_id: int
    person_id: int
    name: str


@dataclass(frozen=True, slots=True)
class SessionStaff:
    staff_id: int
    username: str
    name: str
    roles: str
    office: str
    active: bool


@dataclass(frozen=True, slots=True)
class SessionWithPrincipal:
    """A sign-in session with the person or the staff member it signed in (None: gone)."""

    id: str
    kind: str
    via: str
    last_seen_at: datetime
    step_up_until: datetime | None
    ended_at: datetime | None
    person: SessionPerson | None
    staff: SessionStaff | None


async def session_with_principal(
    session: AsyncSession, session_id: str
) -> SessionWithPrincipal | None:
    db = await direct(session)
    row = await db.fetchrow(_SESSION_WITH_PRINCIPAL, session_id=session_id)
    if row is None:
        return None
    person = staff = None
    if row["person_id"] is not None:
        person = SessionPerson(row["account_id"], row["person_id"], row["person_name"])
    if row["staff_id"] is not None:
        staff = SessionStaff(
            row["staff_id"],
            row["username"],
            row["staff_name"],
            row["roles"],
            row["office"],
            row["active"],
        )
    return SessionWithPrincipal(
        row["id"],
        row["kind"],
        row["via"],
        row["last_seen_at"],
        row["step_up_until"],
        row["ended_at"],
        person,
        staff,
    )


async def touch_session(session: AsyncSession, session_id: str, now: datetime) -> None:
    await (await direct(session)).execute(_TOUCH_SESSION, session_id=session_id, now=now)


async def expire_session(session: AsyncSession, session_id: str, now: datetime) -> None:
    await (await direct(session)).execute(_EXPIRE_SESSION, session_id=session_id, now=now)


async def end_sessions(
    session: AsyncSession,
    now: datetime,
    *,
    account_id: int | None = None,
    staff_id: int | None = None,
) -> int:
    stmt = update(SignInSession).where(SignInSession.ended_at.is_(None)).values(ended_at=now)
    if account_id is not None:
        stmt = stmt.where(SignInSession.account_id == account_id)
    elif staff_id is not None:
        stmt = stmt.where(SignInSession.staff_id == staff_id)
    else:
        raise ValueError("whose sessions?")
    result = await session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


async def active_sessions(session: AsyncSession, account_id: int) -> list[SignInSession]:
    stmt = (
        select(SignInSession)
        .where(SignInSession.account_id == account_id, SignInSession.ended_at.is_(None))
        .order_by(SignInSession.last_seen_at.desc())
    )
    return list((await session.execute(stmt)).scalars())


# --- passkeys ----------------------------------------------------------------------------------


async def passkeys_of(session: AsyncSession, account_id: int) -> list[Passkey]:
    stmt = select(Passkey).where(Passkey.account_id == account_id).order_by(Passkey.id)
    return list((await session.execute(stmt)).scalars())


async def passkey_by_credential(session: AsyncSession, credential_id: str) -> Passkey | None:
    stmt = select(Passkey).where(Passkey.credential_id == credential_id)
    return (await session.execute(stmt)).scalar_one_or_none()


# --- staff -------------------------------------------------------------------------------------


async def staff_by_username(
    session: AsyncSession, username: str, *, lock: bool = False
) -> StaffMember | None:
    stmt = select(StaffMember).where(StaffMember.username == username)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


# --- security events ---------------------------------------------------------------------------


def record_event(
    session: AsyncSession,
    kind: SecurityEventKind,
    now: datetime,
    *,
    channel: str,
    account_id: int | None = None,
    person_id: int | None = None,
    staff_id: int | None = None,
    fields: Mapping[str, object] | None = None,
    **detail: object,
) -> SecurityEvent:
    """`fields`: detail built by the caller (a channel's own fields), merged with `detail`."""
    detail = {**(fields or {}), **detail}
    event = SecurityEvent(
        at=now,
        kind=kind.value,
        account_id=account_id,
        person_id=person_id,
        staff_id=staff_id,
        channel=channel,
        detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else "",
    )
    session.add(event)
    return event


async def events_of_account(
    session: AsyncSession, account_id: int, limit: int = 50
) -> list[SecurityEvent]:
    stmt = (
        select(SecurityEvent)
        .where(SecurityEvent.account_id == account_id)
        .order_by(SecurityEvent.at.desc(), SecurityEvent.id.desc())
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def events(session: AsyncSession, limit: int = 100) -> list[SecurityEvent]:
    stmt = select(SecurityEvent).order_by(SecurityEvent.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def card_password_holder(
    session: AsyncSession, *, account_id: int | None = None, person_id: int | None = None
) -> OnlineAccount | None:
    """The account whose card password a try checks, by account (the phone's step-up) or by
    person (the hotline and the kiosk name a person), locked `FOR UPDATE` until the caller
    commits: tries racing on one card from any channel take turns (identity/card_lock.py)."""
    if (account_id is None) == (person_id is None):
        raise ValueError("name the account or the person, not both")
    stmt = select(OnlineAccount).with_for_update()
    if account_id is not None:
        stmt = stmt.where(OnlineAccount.id == account_id)
    else:
        stmt = stmt.where(OnlineAccount.person_id == person_id)
    return (await session.execute(stmt)).scalar_one_or_none()
