"""Rules of the crediting run: each line's own checks, what a line credits, reading files from a
byte offset."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibao.contributions.domain import ContributionAmounts
from yibao.crediting.domain import (
    HEADER,
    InvalidRun,
    LineFields,
    Outcome,
    Refusal,
    check_line,
    check_run_month,
    decide,
    header_columns,
)
from yibao.crediting.source import read
from yibao.kernel.money import InvalidAmount, parse_yuan

ID = "11010519491231002X"
COLUMNS = {name: i for i, name in enumerate(HEADER)}


@pytest.mark.parametrize(
    ("fields", "refusal"),
    [
        ([ID, "2026-11", "5000.00", "400.00"], Refusal.MISSING_FIELD),
        ([ID, "2026-11", "", "400.00", "100.00"], Refusal.MISSING_FIELD),
        ([ID[:17] + "1", "2026-11", "5000.00", "400.00", "100.00"], Refusal.ID_NUMBER),
        ([ID, "2026-13", "5000.00", "400.00", "100.00"], Refusal.MONTH),
        ([ID, "2026-12", "5000.00", "400.00", "100.00"], Refusal.FUTURE_MONTH),
        ([ID, "2026-11", "5000.001", "400.00", "100.00"], Refusal.AMOUNT),
        ([ID, "2026-11", "5000.00", "-1", "100.00"], Refusal.AMOUNT),
        ([ID, "2026-11", "1e3", "400.00", "100.00"], Refusal.AMOUNT),
    ],
)
def test_a_line_is_refused_for_the_first_thing_wrong_with_it(
    fields: list[str], refusal: Refusal
) -> None:
    assert check_line(fields, COLUMNS, "2026-11") is refusal


def test_a_good_line_in_any_column_order_gives_fen() -> None:
    columns = header_columns(
        ["personal_amount", "id_number", "base", "note", "month", "employer_amount"]
    )
    assert isinstance(columns, dict)
    found = check_line(["100.00", ID, "5000.00", "x", "2026-10", "400"], columns, "2026-11")
    assert found == LineFields(ID, "2026-10", ContributionAmounts(500_000, 40_000, 10_000))
    assert header_columns(["id_number", "month", "base"]) is Refusal.HEADER


def test_what_a_line_credits_first_then_only_the_difference() -> None:
    amounts = ContributionAmounts(500_000, 40_000, 10_000)
    common = {"run_id": 7, "person_id": 3, "month": "2026-10", "amounts": amounts,
              "retired": False, "credit_rate_bp": 200, "retiree_monthly_credit_fen": 9000}  # fmt: skip
    first = decide(**common, recorded_fen=None)  # type: ignore[arg-type]
    assert (first.outcome, first.delta_fen, first.key) == (
        Outcome.CREDITED, 10_000, "contribution:3:2026-10",
    )  # fmt: skip
    assert decide(**common, recorded_fen=10_000).outcome is Outcome.UNCHANGED  # type: ignore[arg-type]
    more = decide(**common, recorded_fen=8_000)  # type: ignore[arg-type]
    assert (more.delta_fen, more.key) == (2_000, "contribution:3:2026-10:run7")
    less = decide(**common, recorded_fen=12_000)  # type: ignore[arg-type]
    assert (less.outcome, less.refusal, less.key) == (Outcome.REFUSED, Refusal.DECREASE, None)
    retiree = decide(
        **(common | {"retired": True, "amounts": ContributionAmounts(0, 0, 0)}), recorded_fen=None
    )  # type: ignore[arg-type]
    assert retiree.delta_fen == 9000
    nothing_paid = decide(
        **(common | {"amounts": ContributionAmounts(500_000, 0, 0)}), recorded_fen=None
    )  # type: ignore[arg-type]
    assert (nothing_paid.outcome, nothing_paid.key) == (Outcome.ARREARS, None)


def test_a_run_month_must_have_come() -> None:
    assert check_run_month("2026-11", "2026-12") == "2026-11"
    with pytest.raises(InvalidRun):
        check_run_month("2027-01", "2026-12")


def test_reading_goes_on_from_the_byte_offset_a_chunk_ended_at(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    rows = [f"{n},2026-11,1,1,1" for n in range(10)]
    path.write_bytes(("\ufeff" + ",".join(HEADER) + "\n" + "\n".join(rows) + "\n").encode())
    chunks = list(read([path], 0, 0, 0, 4))
    assert [len(c.lines) for c in chunks] == [4, 4, 2]
    resumed = list(read([path], 0, chunks[0].offset, chunks[0].line_no, 100))
    assert [line.line_no for line in resumed[0].lines] == list(range(6, 12))
    assert resumed[0].lines[0].fields == rows[4].split(",")


@given(st.from_regex(r"-?\d{0,14}(\.\d{0,3})?", fullmatch=True))
def test_amounts_are_read_as_kernel_money_reads_them_and_never_negative(text: str) -> None:
    try:
        expected: int | None = parse_yuan(text)
    except InvalidAmount:
        expected = None
    if text.startswith("-"):  # a sign, even on zero, is refused
        expected = None
    found = check_line([ID, "2026-11", text, "0", "0"], COLUMNS, "2026-11")
    if expected is None:
        assert found in (Refusal.AMOUNT, Refusal.MISSING_FIELD)
    else:
        assert isinstance(found, LineFields) and found.amounts.base_fen == expected
