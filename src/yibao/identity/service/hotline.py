"""The hotline identifies a caller by the ID number and the 医保卡密码 typed on the keypad.

The same card password, the same lockout (identity/card_lock.py) and the same per-address limit
as the step-up on the phone pages: a wrong password on the phone line counts toward the lock the
app shows, and a card password locked in the app is locked on the line. The caller's "address"
is the call (the telephony's caller id or the call's reference), so one call that keeps guessing
is held back like one browser would be.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment import repository as enrolment_repository
from yibao.identity import card_lock
from yibao.identity import repository as repo
from yibao.identity.domain import (
    CardPasswordRejected,
    RateLimited,
    SecurityEventKind,
    after_failure,
    card_password_locked_message,
)
from yibao.identity.service.common import (
    china_minute,
    count_failure,
    password_matches,
    policy_of,
    refuse_if_throttled,
)
from yibao.kernel.errors import NotFound
from yibao.kernel.idnumber import parse_id_number
from yibao.runtime import Runtime

VIA = "hotline"


class UnknownCaller(NotFound):
    code = "unknown_caller"


class NoCardPassword(CardPasswordRejected):
    code = "no_card_password"


class CardPasswordLocked(RateLimited):
    code = "card_password_locked"


@dataclass(frozen=True, slots=True)
class Caller:
    person_id: int
    name: str


async def find_caller(rt: Runtime, session: AsyncSession, id_number: str, *, client: str) -> int:
    """The person an ID number typed on the keypad names (InvalidIdNumber for a bad check digit)."""
    await refuse_if_throttled(rt, client)
    parsed = parse_id_number(id_number)
    person = await enrolment_repository.person_by_id_number(session, rt.cipher, parsed.value)
    if person is None:
        raise UnknownCaller("没有查到这个身份证号码的参保信息")
    return person.id


async def identify_caller(
    rt: Runtime, session: AsyncSession, person_id: int, card_password: str, *, client: str
) -> Caller:
    """Checks the card password of the person `find_caller` named; commits the try either way."""
    await refuse_if_throttled(rt, client)
    policy = policy_of(rt.settings)
    person = await enrolment_repository.person(session, person_id)
    found = await repo.account_of_person(session, person_id)
    if person is None or found is None:
        password_matches(None, card_password)  # the same work as a real check
        raise NoCardPassword("您还没有设置医保卡密码")
    # Locked from reading the wrong tries to writing them: racing tries take turns (card_lock).
    account = await repo.account(session, found.id, lock=True)
    assert account is not None
    if account.card_password_hash is None:
        raise NoCardPassword("您还没有设置医保卡密码")
    now = rt.clock.now()
    state = await card_lock.lock_state(rt.ephemeral, account.id)
    if state.locked_until is not None and state.is_locked(now):
        until = state.locked_until
        raise CardPasswordLocked(
            card_password_locked_message(china_minute(until)), until=china_minute(until)
        )
    if not password_matches(account.card_password_hash, card_password.strip()):
        state = after_failure(state, now, policy)
        await card_lock.save(rt.ephemeral, account.id, state, policy)
        locked = state.locked_until if state.is_locked(now) else None
        repo.record_event(
            session,
            SecurityEventKind.STEP_UP_FAILED,
            now,
            channel=VIA,
            account_id=account.id,
            method="card_password",
            locked_until=locked,
        )
        await count_failure(rt, session, client, VIA)
        await session.commit()
        if locked is not None:  # this try spent the last one: say so now, not on the next
            raise CardPasswordLocked(
                card_password_locked_message(china_minute(locked)), until=china_minute(locked)
            )
        left = policy.max_failures - state.failed_count
        raise CardPasswordRejected(f"医保卡密码不正确，还可尝试{left}次", left=left)
    await card_lock.forget(rt.ephemeral, account.id)
    repo.record_event(
        session,
        SecurityEventKind.STEP_UP_OK,
        now,
        channel=VIA,
        account_id=account.id,
        method="card_password",
    )
    await session.commit()
    return Caller(person_id=person.id, name=person.name)
