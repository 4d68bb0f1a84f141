"""The year end's rules: rates written exactly, interest rounded half up to the fen, the cutoff
at 1 January Beijing time, a year closed only once it has ended."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from yibao.crediting.year_end import (
    InvalidRate,
    InvalidYearEnd,
    check_year,
    format_rate,
    interest_key,
    parse_rate,
    year_cutoff,
    year_interest,
)


def test_rates_are_exact() -> None:
    assert (parse_rate("1.5%"), parse_rate("0.35"), parse_rate("150bp")) == (150, 35, 150)
    assert (parse_rate(" 2 % "), format_rate(150), format_rate(35)) == (200, "1.50%", "0.35%")
    for bad in ("1.555%", "-1%", "0%", "abc", "101%", "1e2", ""):
        with pytest.raises(InvalidRate):
            parse_rate(bad)


def test_interest_is_rounded_half_up_to_the_fen() -> None:
    # 333.33 元 at 1.5% is 4.99995 元 → 5.00 元; 0.33 元 → 0.00495 元 → 0.
    assert (year_interest(33_333, 150), year_interest(33, 150), year_interest(0, 150)) == (
        500,
        0,
        0,
    )
    assert year_interest(100_000_00, 35) == 35_000  # 100,000 元 at 0.35%: 350.00 元
    assert year_interest(-5, 150) == 0


def test_the_year_ends_at_midnight_beijing_time_and_is_closed_after() -> None:
    assert year_cutoff(2026).astimezone(UTC) == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    assert check_year(2026, 2027) == 2026
    for year, now in ((2026, 2026), (2027, 2026), (1999, 2026)):
        with pytest.raises(InvalidYearEnd):
            check_year(year, now)
    assert interest_key(2026, 42) == "interest:2026:42"
