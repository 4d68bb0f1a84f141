"""Wrong card query passwords (医保卡密码) per account, kept in the short-lived store (rule 11).

The rule is the password lockout's (`after_failure` in identity/domain/limits.py): `max_failures` wrong
ones within `failure_window` of the first block the card password as a step-up method for
`lock_for` (SMS codes and passkeys still work). The card password is six digits, so it needs a
lock as much as the password does. The state holds its own times and the Clock judges them (tests
move time); the store's time-to-live only clears the leftovers.

The state is read and written whole, not counted by one atomic increment: callers hold the
account row's lock (`FOR UPDATE`) from reading it to writing it, so two wrong tries racing on one
account take turns and both count.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from yibao.db.ephemeral import EphemeralStore
from yibao.identity.domain import IdentityPolicy, LockState

_SLACK = timedelta(minutes=1)


def _key(account_id: int) -> str:
    return f"card-password-lock:{account_id}"


def _moment(raw: object) -> datetime | None:
    return datetime.fromisoformat(raw) if isinstance(raw, str) else None


async def lock_state(store: EphemeralStore, account_id: int) -> LockState:
    raw = await store.get(_key(account_id))
    if raw is None:
        return LockState()
    stored = json.loads(raw)
    return LockState(
        failed_count=int(stored["failed"]),
        first_failed_at=_moment(stored["first"]),
        locked_until=_moment(stored["until"]),
    )


async def save(
    store: EphemeralStore, account_id: int, state: LockState, policy: IdentityPolicy
) -> None:
    value = {
        "failed": state.failed_count,
        "first": state.first_failed_at.isoformat() if state.first_failed_at else None,
        "until": state.locked_until.isoformat() if state.locked_until else None,
    }
    ttl = policy.failure_window + policy.lock_for + _SLACK
    await store.put(_key(account_id), json.dumps(value), ttl)


async def forget(store: EphemeralStore, account_id: int) -> None:
    """A right card password, or a new one set at the counter, starts with a clean count."""
    await store.delete(_key(account_id))
