"""Identity rules without a database: passwords, identifiers, lockout window, SMS codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from yibao.identity import codes, throttle
from yibao.identity.domain import (
    CodePurpose,
    CodeRejected,
    IdentifierKind,
    IdentityPolicy,
    LockState,
    RateLimited,
    WeakPassword,
    address_refused_until,
    address_window,
    after_failure,
    check_code_shape,
    check_password,
    classify_identifier,
    client_key,
    code_text,
    judge_card_password,
    new_code,
    parse_roles,
)
from yibao.kernel.errors import InvalidInput
from yibao.kernel.pii import PersonalDataCipher

ID = "31010419850315001X"
PHONE = "13800138000"
T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Ab1!", "太短"),
        ("abcdefgh!", "数字"),
        ("12345678!", "字母"),
        ("abcd1234", "符号"),
        ("abc 123!x", "空格"),
        (f"a!{PHONE}", "手机号"),
        (f"a!{ID.lower()}", "身份证号"),
        ("a!850315001X", "身份证号"),
    ],
)
def test_weak_passwords_name_the_rule_they_break(password: str, rule: str) -> None:
    with pytest.raises(WeakPassword, match=rule):
        check_password(password, phone=PHONE, id_number=ID)


def test_strong_password_passes() -> None:
    check_password("Yibao@2026", phone=PHONE, id_number=ID)
    check_password("密码Ab1!xyz", phone=PHONE, id_number=ID)


@pytest.mark.parametrize(
    ("raw", "kind", "value"),
    [
        ("13800138000", IdentifierKind.PHONE, "13800138000"),
        ("+86 138 0013 8000", IdentifierKind.PHONE, "13800138000"),
        ("31010419850315001x", IdentifierKind.ID_NUMBER, ID),
        ("a31000001", IdentifierKind.CARD_NO, "A31000001"),
    ],
)
def test_sign_in_identifiers_are_told_apart(raw: str, kind: IdentifierKind, value: str) -> None:
    assert classify_identifier(raw) == (kind, value)


def test_garbage_identifier_is_none() -> None:
    assert classify_identifier("<script>") is None
    assert classify_identifier("") is None


def test_lockout_counts_five_failures_inside_the_window() -> None:
    policy = IdentityPolicy()
    state = LockState()
    for minute in range(4):
        state = after_failure(state, T0 + timedelta(minutes=minute * 3), policy)
        assert not state.is_locked(T0 + timedelta(minutes=minute * 3))
    fifth = T0 + timedelta(minutes=14, seconds=59)
    state = after_failure(state, fifth, policy)
    assert state.locked_until == fifth + timedelta(minutes=30)
    assert state.is_locked(fifth + timedelta(minutes=29, seconds=59))
    assert not state.is_locked(fifth + timedelta(minutes=30))


def test_the_window_restarts_after_fifteen_minutes() -> None:
    policy = IdentityPolicy()
    state = LockState()
    for minute in range(4):
        state = after_failure(state, T0 + timedelta(minutes=minute), policy)
    state = after_failure(state, T0 + timedelta(minutes=15), policy)
    assert state.failed_count == 1 and state.locked_until is None


def test_lockout_numbers_are_settings() -> None:
    policy = IdentityPolicy(max_failures=3, lock_for=timedelta(minutes=5))
    state = LockState()
    for _ in range(3):
        state = after_failure(state, T0, policy)
    assert state.locked_until == T0 + timedelta(minutes=5)


def test_a_card_password_try_counts_down_locks_and_clears() -> None:
    policy = IdentityPolicy()
    state = LockState()
    for left in (4, 3, 2, 1):
        verdict = judge_card_password(state, T0, policy, matched=False)
        assert not verdict.accepted and verdict.left == left and verdict.locked_until is None
        state = verdict.state
    last = judge_card_password(state, T0, policy, matched=False)
    assert last.left == 0 and last.locked_until == T0 + timedelta(minutes=30)
    assert last.state.is_locked(T0)
    right = judge_card_password(state, T0, policy, matched=True)
    assert right.accepted and right.state == LockState() and right.locked_until is None


def test_an_address_is_refused_from_its_thirtieth_failure_until_the_stretch_ends() -> None:
    policy = IdentityPolicy()
    now = T0 + timedelta(minutes=7, seconds=30)  # 10:07:30 in Beijing: the 10:00–10:15 stretch
    assert address_refused_until(29, now, policy) is None
    assert address_refused_until(30, now, policy) == T0 + timedelta(minutes=15)
    assert address_refused_until(31, now, policy) == T0 + timedelta(minutes=15)


def test_address_stretches_are_fixed_on_the_clock_and_alike_for_every_address() -> None:
    policy = IdentityPolicy()
    first, ends = address_window(T0, policy)
    assert ends == T0 + timedelta(minutes=15)
    assert address_window(T0 + timedelta(minutes=14, seconds=59), policy) == (first, ends)
    assert address_window(T0 + timedelta(minutes=15), policy)[0] == first + 1
    # Beijing is a whole number of hours from UTC: the stretches start on :00 :15 :30 :45 there.
    assert address_window(T0 - timedelta(seconds=1), policy)[1] == T0


def test_address_limit_numbers_are_settings() -> None:
    policy = IdentityPolicy(address_max_failures=3, address_window=timedelta(minutes=5))
    assert address_refused_until(2, T0, policy) is None
    assert address_refused_until(3, T0, policy) == T0 + timedelta(minutes=5)


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.9", "203.0.113.9"),
        (" 203.0.113.9 ", "203.0.113.9"),
        # One subscriber gets a whole /64: its addresses share one count.
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("", "unknown"),
        ("testclient", "testclient"),
    ],
)
def test_client_key(address: str, key: str) -> None:
    assert client_key(address) == key


def test_codes_are_six_digits() -> None:
    for _ in range(200):
        code = new_code()
        assert len(code) == 6 and code.isdigit()
    assert check_code_shape(" 012345 ") == "012345"
    for bad in ("12345", "1234567", "12a456", ""):
        with pytest.raises(CodeRejected):
            check_code_shape(bad)
    assert "5分钟内有效" in code_text("123456", CodePurpose.SIGN_IN, 5)


def test_roles() -> None:
    assert parse_roles(["clerk,reviewer"]) == {"clerk", "reviewer"}
    with pytest.raises(InvalidInput, match="未知岗位"):
        parse_roles(["boss"])


class MemoryStore:
    """The short-lived store's contract in a dict (tests only; production never keeps it in memory)."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    async def get(self, key: str) -> str | None:
        return self.data.get(key)

    async def put(self, key: str, value: str, ttl: timedelta) -> None:
        self.data[key] = value

    async def add(self, key: str, value: str, ttl: timedelta) -> bool:
        if key in self.data:
            return False
        self.data[key] = value
        return True

    async def incr(self, key: str, ttl: timedelta) -> int:
        self.data[key] = str(int(self.data.get(key, "0")) + 1)
        return int(self.data[key])

    async def delete(self, key: str) -> None:
        self.data.pop(key, None)


CIPHER = PersonalDataCipher(b"k" * 32)


async def test_code_store_keeps_a_hash_and_honours_ttl_and_tries() -> None:
    store, policy = MemoryStore(), IdentityPolicy()
    await codes.remember_code(store, CIPHER, "ph", CodePurpose.SIGN_IN, "246810", T0, policy)
    assert not any("246810" in v for v in store.data.values())
    assert json.loads(store.data["sms:code:sign_in:ph"])["at"] == T0.isoformat()
    with pytest.raises(CodeRejected, match="过期"):
        await codes.consume_code(
            store, CIPHER, "ph", CodePurpose.SIGN_IN, "246810", T0 + timedelta(minutes=6), policy
        )
    await codes.remember_code(store, CIPHER, "ph", CodePurpose.SIGN_IN, "246810", T0, policy)
    # A code for one purpose does not serve another.
    with pytest.raises(CodeRejected, match="失效"):
        await codes.consume_code(store, CIPHER, "ph", CodePurpose.RESET, "246810", T0, policy)
    await codes.consume_code(store, CIPHER, "ph", CodePurpose.SIGN_IN, "246810", T0, policy)
    with pytest.raises(CodeRejected, match="失效"):
        await codes.consume_code(store, CIPHER, "ph", CodePurpose.SIGN_IN, "246810", T0, policy)


async def test_sending_is_limited_per_minute_and_per_day() -> None:
    store = MemoryStore()
    policy = IdentityPolicy(sms_daily_limit=2)
    await codes.reserve_sending(store, "ph", T0, policy)
    with pytest.raises(RateLimited, match="60秒"):
        await codes.reserve_sending(store, "ph", T0, policy)
    store.data.pop("sms:gap:ph")
    await codes.reserve_sending(store, "ph", T0, policy)
    store.data.pop("sms:gap:ph")
    with pytest.raises(RateLimited, match="2次上限"):
        await codes.reserve_sending(store, "ph", T0, policy)
    # Another Beijing day starts afresh.
    store.data.pop("sms:gap:ph")
    await codes.reserve_sending(store, "ph", T0 + timedelta(days=1), policy)


async def test_address_failures_are_counted_in_the_store_per_stretch() -> None:
    store, policy = MemoryStore(), IdentityPolicy(address_max_failures=3)
    here, there = "203.0.113.9", "203.0.113.10"
    reached = [await throttle.count_failure(store, here, T0, policy) for _ in range(4)]
    assert reached == [False, False, True, False]  # the one that used the budget up, once
    assert await throttle.refused_until(store, here, T0, policy) == T0 + timedelta(minutes=15)
    assert await throttle.refused_until(store, there, T0, policy) is None
    assert await throttle.refused_until(store, here, T0 + timedelta(minutes=15), policy) is None


def test_sms_per_address_numbers_are_settings() -> None:
    """`asked` includes the request at hand: the third of three may be sent, the fourth waits
    for the stretch to end."""
    policy = IdentityPolicy(address_max_sms=3, address_window=timedelta(minutes=5))
    assert throttle.sms_refused_until(3, T0, policy) is None
    assert throttle.sms_refused_until(4, T0, policy) == T0 + timedelta(minutes=5)
    assert IdentityPolicy().address_max_sms == 20


async def test_sms_asked_per_address_are_counted_apart_from_failures() -> None:
    store, policy = MemoryStore(), IdentityPolicy(address_max_sms=2)
    here, there = "2001:db8:1:2::1", "203.0.113.10"
    asked = [await throttle.count_sms(store, here, T0, policy) for _ in range(2)]
    # Another address of the same IPv6 /64 shares the count; another network does not.
    asked.append(await throttle.count_sms(store, "2001:db8:1:2::ffff", T0, policy))
    assert asked == [1, 2, 3]
    assert await throttle.count_sms(store, there, T0, policy) == 1
    # Codes asked for are not failures, and a new stretch starts afresh.
    assert await throttle.refused_until(store, here, T0, policy) is None
    assert await throttle.count_sms(store, here, T0 + timedelta(minutes=15), policy) == 1
