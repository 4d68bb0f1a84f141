from datetime import date

from yibao.contributions.domain import (
    ContributionAmounts,
    credited_amount,
    gap_months,
    status_of,
)


def test_in_service_credit_is_two_percent_of_base() -> None:
    amounts = ContributionAmounts(base_fen=1_000_000, employer_fen=90_000, personal_fen=20_000)
    assert (
        credited_amount(amounts, retired=False, credit_rate_bp=200, retiree_monthly_credit_fen=0)
        == 20_000
    )


def test_retiree_gets_the_regional_fixed_amount() -> None:
    amounts = ContributionAmounts(0, 0, 0)
    assert (
        credited_amount(
            amounts, retired=True, credit_rate_bp=200, retiree_monthly_credit_fen=16_300
        )
        == 16_300
    )


def test_statuses() -> None:
    paid = ContributionAmounts(1_000_000, 90_000, 20_000)
    assert status_of(paid, "2026-01", date(2026, 1, 15), retired=False) == "normal"
    assert status_of(paid, "2026-01", date(2026, 6, 15), retired=False) == "backpaid"
    assert (
        status_of(ContributionAmounts(1_000_000, 0, 0), "2026-01", date(2026, 1, 15), retired=False)
        == "arrears"
    )


def test_gaps() -> None:
    assert gap_months(["2026-01", "2026-04", "2025-12"]) == ["2026-02", "2026-03"]
    assert gap_months([]) == []
