"""Failed sign-ins and verifications, and SMS codes asked for, per client address, counted in the
short-lived store (rule 11), never in a process's memory: every server process and machine adds
to the same count.

One key per address and stretch of the clock (`address_window` in identity/domain/limits.py); the
stretch's number is in the key, so the Clock decides when a stretch is over (tests move time) and
the store's own time-to-live only clears the leftovers. A failure is one atomic increment, so two
processes failing at once both count. Checking and counting are separate steps: attempts already
in flight when the limit is reached are still checked (and counted), a handful at most. SMS codes
are counted before they are sent, in the same one increment that decides: no overshoot there.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from yibao.db.ephemeral import EphemeralStore
from yibao.identity.domain import (
    IdentityPolicy,
    address_refused_until,
    address_window,
    client_key,
)

_SLACK = timedelta(minutes=1)


def _key(
    client: str,
    now: datetime,
    policy: IdentityPolicy,
    counter: Literal["signin-failures", "sms-sent"] = "signin-failures",
) -> str:
    number, _ = address_window(now, policy)
    return f"{counter}:{client_key(client)}:{number}"


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


async def count_sms(
    store: EphemeralStore, client: str, now: datetime, policy: IdentityPolicy
) -> int:
    """Count one SMS code asked for from this address, before anything is looked up or sent: how
    many this stretch has asked for, this one included (one atomic increment across processes)."""
    return await store.incr(_key(client, now, policy, "sms-sent"), policy.address_window + _SLACK)


def sms_refused_until(asked: int, now: datetime, policy: IdentityPolicy) -> datetime | None:
    """When an address that asked for `asked` SMS codes in this stretch (this one included) may
    ask again (None: this one may be sent).

    Against SMS bombing: the per-phone limits (one a minute, `sms_daily_limit` a day) stop one
    phone being flooded, not one client texting thousands of different phones (each text costs
    money and bothers someone who never asked). Every request for a code counts, sent or not: a
    sign-in or reset code for a phone or ID number without an account is answered as if sent, and
    counting only real sends would let the budget tell which phones have accounts. The default,
    20 codes per 15 minutes, is generous on purpose: a family behind one home router or a
    hospital hall's kiosk where people register, sign in and verify one after another asks a code
    or two each, a few people a minute at most; a script asks hundreds a minute. It holds one
    address to under 2,000 texts a day, each phone still to its own daily limit.
    """
    if asked <= policy.address_max_sms:
        return None
    return address_window(now, policy)[1]
