"""The one check of a social-security card's query password (医保卡密码), for every channel that
takes it: the phone's step-up (`signin.py`), the hotline's keypad (`hotline.py`) and the kiosk's
keypad (`kiosk.py`).

One count of wrong tries per account (identity/card_lock.py), whichever channel they came from:
two wrong at the kiosk and three on the phone line lock the card everywhere. The same per-address
limit first, the same argon2 verification (constant time, and the same work when there is no
password to check), the same security events. Each channel keeps its own words for "no card
password set"; the wrong-try and locked sentences are the domain's, alike everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.identity import card_lock
from yibao.identity import repository as repo
from yibao.identity.domain import (
    CardPasswordLocked,
    CardPasswordRejected,
    NoCardPassword,
    SecurityEventKind,
    card_password_locked_message,
    judge_card_password,
)
from yibao.identity.service.common import (
    china_minute,
    count_failure,
    password_matches,
    policy_of,
    refuse_if_throttled,
    seconds_until,
)
from yibao.runtime import Runtime

METHOD = "card_password"


@dataclass(frozen=True, slots=True)
class CardHolder:
    account_id: int
    person_id: int


def locked(until: datetime, now: datetime) -> CardPasswordLocked:
    minute = china_minute(until)
    return CardPasswordLocked(
        card_password_locked_message(minute), until=minute, retry_after=seconds_until(until, now)
    )


def _record(
    session: AsyncSession,
    kind: SecurityEventKind,
    now: datetime,
    via: str,
    holder: CardHolder,
    detail: dict[str, object],
) -> None:
    repo.record_event(
        session,
        kind,
        now,
        channel=via,
        account_id=holder.account_id,
        person_id=holder.person_id,
        fields=detail,
    )


async def verify_card_password(
    rt: Runtime,
    session: AsyncSession,
    *,
    card_password: str,
    via: str,
    client: str,
    not_set: str,
    account_id: int | None = None,
    person_id: int | None = None,
    kiosk: str | None = None,
) -> CardHolder:
    """Whose card password it is, when right. Name the account or the person; `not_set` is the
    channel's sentence when there is no card password; `kiosk` names the kiosk in the events,
    so staff find the device a run of guesses came from.

    A wrong try records STEP_UP_FAILED, counts against the address, commits and raises
    `CardPasswordRejected` (with `left`) or, when it spent the last one, `CardPasswordLocked`.
    A right one records STEP_UP_OK and clears the count but does not commit: the caller commits
    it together with what it opens (a step-up window, a kiosk session, an identified call)."""
    await refuse_if_throttled(rt, client)
    # Locked from reading the wrong tries to writing them: racing tries take turns (card_lock).
    account = await repo.card_password_holder(session, account_id=account_id, person_id=person_id)
    if account is None or account.card_password_hash is None:
        password_matches(None, card_password)  # the same work as a real check
        raise NoCardPassword(not_set)
    now = rt.clock.now()
    state = await card_lock.lock_state(rt.ephemeral, account.id)
    if state.locked_until is not None and state.is_locked(now):
        raise locked(state.locked_until, now)
    policy = policy_of(rt.settings)
    matched = password_matches(account.card_password_hash, card_password.strip())
    verdict = judge_card_password(state, now, policy, matched=matched)
    holder = CardHolder(account_id=account.id, person_id=account.person_id)
    detail: dict[str, object] = {"method": METHOD}
    if kiosk is not None:
        detail["kiosk"] = kiosk
    if verdict.accepted:
        await card_lock.forget(rt.ephemeral, account.id)
        _record(session, SecurityEventKind.STEP_UP_OK, now, via, holder, detail)
        return holder
    await card_lock.save(rt.ephemeral, account.id, verdict.state, policy)
    detail["locked_until"] = verdict.locked_until
    _record(session, SecurityEventKind.STEP_UP_FAILED, now, via, holder, detail)
    await count_failure(rt, session, client, via)
    await session.commit()
    if verdict.locked_until is not None:  # this try spent the last one: say so now
        raise locked(verdict.locked_until, now)
    raise CardPasswordRejected(f"医保卡密码不正确，还可尝试{verdict.left}次", left=verdict.left)
