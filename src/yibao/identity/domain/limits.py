"""Limits on guessing: the lockout of one account (password, card password) and the failures
and SMS codes counted per client address. The rules are summarised in the package's docstring."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from yibao.identity.domain import IdentityPolicy


# --- lockout -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LockState:
    failed_count: int = 0
    first_failed_at: datetime | None = None
    locked_until: datetime | None = None

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


def after_failure(state: LockState, now: datetime, policy: IdentityPolicy) -> LockState:
    """Count a wrong password; the window opens at the first failure and lasts `failure_window`."""
    if state.first_failed_at is None or now - state.first_failed_at >= policy.failure_window:
        state = LockState(failed_count=0, first_failed_at=now, locked_until=state.locked_until)
    count = state.failed_count + 1
    if count >= policy.max_failures:
        return LockState(failed_count=0, first_failed_at=None, locked_until=now + policy.lock_for)
    return replace(state, failed_count=count)


def after_success() -> LockState:
    return LockState()


@dataclass(frozen=True, slots=True)
class CardPasswordVerdict:
    """What one try of a card password does to the card's count, whichever channel it came from
    (the phone's step-up, the hotline's keypad, the kiosk's keypad): one count per account."""

    accepted: bool
    state: LockState  # the count to keep
    left: int  # wrong tries left before the lock (0 once this try locked it)
    locked_until: datetime | None  # set when this try spent the last one


def judge_card_password(
    state: LockState, now: datetime, policy: IdentityPolicy, *, matched: bool
) -> CardPasswordVerdict:
    """A try that is not held back by a lock already on (callers refuse those before checking)."""
    if matched:
        return CardPasswordVerdict(True, after_success(), policy.max_failures, None)
    after = after_failure(state, now, policy)
    if after.is_locked(now):
        return CardPasswordVerdict(False, after, 0, after.locked_until)
    return CardPasswordVerdict(False, after, policy.max_failures - after.failed_count, None)


def card_password_locked_message(until_china: str) -> str:
    return f"医保卡密码错误次数过多，请于 {until_china} 后再试，或改用短信验证码"


# --- failures per client address --------------------------------------------------------------


def client_key(address: str) -> str:
    """Whose failures an address counts as: an IPv6 address by its /64, which a carrier hands one
    subscriber whole (counting single addresses would give one client 2^64 budgets)."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()[:64] or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network((ip, 64), strict=False))
    return str(ip)


def address_window(now: datetime, policy: IdentityPolicy) -> tuple[int, datetime]:
    """The stretch of the clock an address's failures count in (its number, and when it ends):
    fixed stretches of `address_window`, :00 :15 :30 :45 by default, alike for every address.

    Fixed rather than opened by the first failure (as the lockout is): each failure is then one
    atomic increment of one key that names its stretch, so processes failing at once all count
    and the Clock, not the store, decides when a stretch is over. The price is that a burst
    across a boundary may reach twice the limit once; over any longer run an address still gets
    `address_max_failures` per stretch, which is what starves credential stuffing.
    """
    length = max(int(policy.address_window.total_seconds()), 1)
    number = int(now.timestamp()) // length
    return number, datetime.fromtimestamp((number + 1) * length, tz=UTC)


def address_refused_until(failures: int, now: datetime, policy: IdentityPolicy) -> datetime | None:
    """When an address that failed `failures` times in this stretch may try again (None: now).

    Failed passwords, SMS codes and card passwords count, for every account and for identifiers
    that have none; successful ones neither count nor clear the count (one good account would
    otherwise reset a stuffing run). Passkeys are not counted and not refused: nothing can be
    guessed there. The default, 30 failures per 15 minutes, is generous on purpose: a family
    behind one home router, a hospital hall's kiosk or a clinic's Wi-Fi sign many people in from
    one address, and each may mistype a few times; people do not keep up two failures a minute
    for a quarter of an hour, a script does in seconds. It holds a script to under 3,000 guesses
    a day per address, while each account's own lockout still guards one person's password.
    """
    if failures < policy.address_max_failures:
        return None
    return address_window(now, policy)[1]


def throttled_message(until_china: str) -> str:
    return f"当前网络的登录和验证失败次数过多，为保护账户安全，请于 {until_china} 后再试"


def sms_throttled_message(until_china: str) -> str:
    return f"当前网络获取验证码次数过多，请于 {until_china} 后再试"
