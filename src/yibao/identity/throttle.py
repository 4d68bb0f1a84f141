"""Failed sign-ins and verifications per client address, counted in the short-lived store (rule
11), never in a process's memory: every server process and machine adds to the same count.

One key per address and stretch of the clock (`address_window` in identity/domain.py); the
stretch's number is in the key, so the Clock decides when a stretch is over (tests move time) and
the store's own time-to-live only clears the leftovers. A failure is one atomic increment, so two
processes failing at once both count. Checking and counting are separate steps: attempts already
in flight when the limit is reached are still checked (and counted), a handful at most.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from yibao.db.ephemeral import EphemeralStore
from yibao.identity.domain import (
    IdentityPolicy,
    address_refused_until,
    address_window,
    client_key,
)

_SLACK = timedelta(minutes=1)


def _key(client: str, now: datetime, policy: IdentityPolicy) -> str:
    number, _ = address_window(now, policy)
    return f"signin-failures:{client_key(client)}:{number}"


async def refused_until(
    store: EphemeralStore, client: str, now: datetime, policy: IdentityPolicy
) -> datetime | None:
    """When this address may try again, if it has used up its failures for now."""
    failures = int(await store.get(_key(client, now, policy)) or 0)
    return address_refused_until(failures, now, policy)


async def count_failure(
    store: EphemeralStore, client: str, now: datetime, policy: IdentityPolicy
) -> bool:
    """Count one failed attempt; True for the one that used up the address's failures (exactly
    one attempt sees that, however many race)."""
    count = await store.incr(_key(client, now, policy), policy.address_window + _SLACK)
    return count == policy.address_max_failures
