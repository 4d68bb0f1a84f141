"""Identity rules without a database: passwords, identifiers, lockout window, SMS codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from yibao.identity import codes
from yibao.identity.domain import (
    CodePurpose,
    CodeRejected,
    IdentifierKind,
    IdentityPolicy,
    LockState,
    RateLimited,
    WeakPassword,
    after_failure,
    check_code_shape,
    check_password,
    classify_identifier,
    code_text,
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
