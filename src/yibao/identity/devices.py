"""Device cookies: the password lockout holds back untrusted devices, not the account's owner.

OWASP's "device cookies" against brute force: each successful sign-in hands the browser (or the
app, on the API) a device token naming the account it signed in, with a random nonce, signed
with the runtime's keyed hash. A later password sign-in presenting a valid token for the same
account comes from a device the owner used, and has its own count of wrong passwords (kept here,
in the short-lived store, per nonce). Every other try (no token, another account's, a forged
one) is untrusted, and all untrusted tries share the count on the account row. Five wrong
passwords from untrusted devices hold back password sign-in from every untrusted device, while
the owner's device keeps signing in; five from one trusted device hold back that device only.

The state of all an account's trusted devices is one entry, read and written whole under the
account row's lock (`FOR UPDATE`), as card_lock.py does, so racing tries take turns and a
password reset or an unlock clears it in one delete. An attacker cannot grow it: only sign-ins
that succeeded mint nonces.
"""

from __future__ import annotations

import hmac
import json
import secrets
from datetime import datetime, timedelta

from yibao.db.ephemeral import EphemeralStore
from yibao.identity.domain import IdentityPolicy, LockState
from yibao.kernel.pii import PersonalDataCipher

_PURPOSE = "device-cookie"
_SLACK = timedelta(minutes=1)
MAX_TOKEN_LENGTH = 200


def issue(cipher: PersonalDataCipher, kind: str, principal_id: int) -> str:
    """A new device token for `kind` ("person" | "staff") `principal_id`, just signed in."""
    body = f"{kind}{principal_id}.{secrets.token_urlsafe(16)}"
    return f"{body}.{cipher.lookup_hash(body, purpose=_PURPOSE)}"


def trusted_nonce(
    cipher: PersonalDataCipher, token: str, kind: str, principal_id: int
) -> str | None:
    """The device's nonce when `token` is a genuine device token for this very account."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    owner, _, rest = token.partition(".")
    nonce, _, signature = rest.partition(".")
    if owner != f"{kind}{principal_id}" or not nonce or not signature:
        return None
    expected = cipher.lookup_hash(f"{owner}.{nonce}", purpose=_PURPOSE)
    return nonce if hmac.compare_digest(signature, expected) else None


def _key(kind: str, principal_id: int) -> str:
    return f"device-lock:{kind}:{principal_id}"


def _moment(raw: object) -> datetime | None:
    return datetime.fromisoformat(raw) if isinstance(raw, str) else None


async def _all(store: EphemeralStore, kind: str, principal_id: int) -> dict[str, dict[str, object]]:
    raw = await store.get(_key(kind, principal_id))
    loaded = json.loads(raw) if raw else {}
    return loaded if isinstance(loaded, dict) else {}


async def lock_state(store: EphemeralStore, kind: str, principal_id: int, nonce: str) -> LockState:
    stored = (await _all(store, kind, principal_id)).get(nonce)
    if stored is None:
        return LockState()
    failed = stored.get("failed", 0)
    return LockState(
        failed_count=failed if isinstance(failed, int) else 0,
        first_failed_at=_moment(stored.get("first")),
        locked_until=_moment(stored.get("until")),
    )


async def save(
    store: EphemeralStore,
    kind: str,
    principal_id: int,
    nonce: str,
    state: LockState,
    policy: IdentityPolicy,
) -> None:
    devices = await _all(store, kind, principal_id)
    devices[nonce] = {
        "failed": state.failed_count,
        "first": state.first_failed_at.isoformat() if state.first_failed_at else None,
        "until": state.locked_until.isoformat() if state.locked_until else None,
    }
    ttl = policy.failure_window + policy.lock_for + _SLACK
    await store.put(_key(kind, principal_id), json.dumps(devices), ttl)


async def forget(
    store: EphemeralStore, kind: str, principal_id: int, nonce: str, policy: IdentityPolicy
) -> None:
    """A right password from a trusted device starts that device's count afresh."""
    devices = await _all(store, kind, principal_id)
    if devices.pop(nonce, None) is None:
        return
    if devices:
        ttl = policy.failure_window + policy.lock_for + _SLACK
        await store.put(_key(kind, principal_id), json.dumps(devices), ttl)
    else:
        await store.delete(_key(kind, principal_id))


async def forget_all(store: EphemeralStore, kind: str, principal_id: int) -> None:
    """A password reset or an unlock at the counter clears every device's count."""
    await store.delete(_key(kind, principal_id))
