"""Rules of contributions and of crediting the personal account (the 2021 reform).

- An in-service employee's own contribution goes into the personal account: the region's
  crediting rate (default 2%) of the contribution base (缴费基数). The employer's contribution goes
  to the pooled fund (统筹基金) and never into the account.
- A retiree is credited a fixed monthly amount set by the region.
- Status: normal (正常); arrears (欠费) when nothing was paid for the month; back-paid (补缴) when
  the money arrived more than `BACKPAY_GRACE_MONTHS` after the month it belongs to.
- A month with no record between the first and the last is a gap, shown to the person as 欠费.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from yibao.kernel.errors import InvalidInput
from yibao.kernel.money import Fen, apply_rate_bp

BACKPAY_GRACE_MONTHS = 2

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class ContributionStatus(StrEnum):
    NORMAL = "normal"
    ARREARS = "arrears"
    BACKPAID = "backpaid"


STATUS_NAMES = {"normal": "正常", "arrears": "欠费", "backpaid": "补缴"}


class InvalidContribution(InvalidInput):
    code = "invalid_contribution"


def parse_month(raw: str) -> str:
    match = _MONTH.match(raw.strip())
    if not match or not (1 <= int(match.group(2)) <= 12) or int(match.group(1)) < 1990:
        raise InvalidContribution(f"费款所属期应为 YYYY-MM，收到 {raw!r}")
    return raw.strip()


def month_index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def month_of_index(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True, slots=True)
class ContributionAmounts:
    base_fen: Fen
    employer_fen: Fen
    personal_fen: Fen

    def check(self) -> None:
        for label, value in (
            ("缴费基数", self.base_fen),
            ("单位缴费", self.employer_fen),
            ("个人缴费", self.personal_fen),
        ):
            if value < 0:
                raise InvalidContribution(f"{label}不能为负数")


def credited_amount(
    amounts: ContributionAmounts,
    *,
    retired: bool,
    credit_rate_bp: int,
    retiree_monthly_credit_fen: Fen,
) -> Fen:
    if amounts.employer_fen + amounts.personal_fen == 0 and not retired:
        return 0
    if retired:
        return retiree_monthly_credit_fen
    return apply_rate_bp(amounts.base_fen, credit_rate_bp)


def status_of(amounts: ContributionAmounts, month: str, arrived_on: date, *, retired: bool) -> str:
    if not retired and amounts.employer_fen + amounts.personal_fen == 0:
        return ContributionStatus.ARREARS.value
    arrival_index = arrived_on.year * 12 + arrived_on.month - 1
    if arrival_index - month_index(month) > BACKPAY_GRACE_MONTHS:
        return ContributionStatus.BACKPAID.value
    return ContributionStatus.NORMAL.value


def gap_months(months: list[str]) -> list[str]:
    """Months missing between the first and the last recorded month."""
    if not months:
        return []
    indexes = sorted({month_index(m) for m in months})
    present = set(indexes)
    return [month_of_index(i) for i in range(indexes[0], indexes[-1] + 1) if i not in present]
