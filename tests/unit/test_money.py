from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibao.kernel.money import (
    InvalidAmount,
    apply_rate_bp,
    format_yuan,
    parse_yuan,
    split_largest_remainder,
)


@pytest.mark.parametrize(
    ("text", "fen"),
    [("0", 0), ("1", 100), ("1.5", 150), ("12.34", 1234), ("-0.05", -5), (" 7.00 ", 700)],
)
def test_parse_yuan(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("bad", ["1.234", "abc", "", "1e3", "1,000", "--1"])
def test_parse_yuan_refuses(bad: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_yuan(bad)


def test_parse_yuan_refuses_floats() -> None:
    with pytest.raises(InvalidAmount):
        parse_yuan(1.5)  # type: ignore[arg-type]


def test_parse_decimal_and_int() -> None:
    assert parse_yuan(Decimal("3.10")) == 310
    assert parse_yuan(3) == 300
    assert parse_yuan(9_999_999_999_999) == 999_999_999_999_900


@pytest.mark.parametrize("bad", [10**13, -(10**13), 10**20])
def test_parse_yuan_refuses_more_than_thirteen_digits(bad: int) -> None:
    """Text was bounded by its pattern, integers were not (10^20 yuan overflowed BIGINT)."""
    with pytest.raises(InvalidAmount):
        parse_yuan(bad)


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_format_then_parse_round_trips(fen: int) -> None:
    assert parse_yuan(format_yuan(fen)) == fen


def test_format_yuan() -> None:
    assert format_yuan(0) == "0.00"
    assert format_yuan(5) == "0.05"
    assert format_yuan(-12345) == "-123.45"


def test_apply_rate_rounds_half_up() -> None:
    assert apply_rate_bp(1_000_000, 200) == 20_000
    assert apply_rate_bp(25, 200) == 1  # 0.5 fen rounds up
    assert apply_rate_bp(24, 200) == 0


@given(
    st.integers(min_value=0, max_value=10**10),
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=8).filter(
        lambda ws: sum(ws) > 0
    ),
)
def test_split_adds_up_and_is_fair(total: int, weights: list[int]) -> None:
    parts = split_largest_remainder(total, weights)
    assert sum(parts) == total
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        exact = total * weight / weight_sum
        assert abs(part - exact) < 1
