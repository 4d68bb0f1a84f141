"""Rules of the year end (年度结转) of personal accounts.

- Interest (结息) is paid once a year, only in a region whose rules set a rate (a per-region
  setting; none by default). The rate is in basis points a year (1.5% = 150).
- The balance that earns it is the account's balance at the end of the year: the balance after
  the last entry made before 1 January of the next year, 00:00 Beijing time. (Some regions count
  daily balances, 积数; this platform uses the year-end balance and says so.)
- Interest = year-end balance × rate, in integer fen, rounded half up (四舍五入) to the fen:
  (balance × rate_bp + 5000) // 10000. Nothing is posted when it comes to 0.
- Exactly once: the entry is keyed `interest:<year>:<account id>`, an entry kind of its own
  (`interest_credit`). A second run of the same year credits nothing.
- A year can be closed once it has ended (Beijing time).
- The yearly accumulations of settlement (deductible met, fund paid toward the cap) are kept per
  person and calendar year already (`yearly_accumulations`, keyed by year): they start afresh on
  1 January without a step here.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from yibao.kernel.clock import CHINA_TZ
from yibao.kernel.errors import InvalidInput

MAX_RATE_BP = 10_000


class YearEndState(StrEnum):
    PROPOSED = "proposed"
    CREDITING = "crediting"
    DONE = "done"
    REJECTED = "rejected"


YEAR_END_STATE_NAMES = {
    YearEndState.PROPOSED: "待复核",
    YearEndState.CREDITING: "结息中",
    YearEndState.DONE: "已完成",
    YearEndState.REJECTED: "已驳回",
}


class InvalidYearEnd(InvalidInput):
    code = "invalid_year_end"


class InvalidRate(InvalidInput):
    code = "invalid_interest_rate"


def check_year(year: int, current_year: int) -> int:
    if year < 2000:
        raise InvalidYearEnd(f"结转年度 {year} 有误")
    if year >= current_year:
        raise InvalidYearEnd(f"{year} 年尚未结束，不能结转")
    return year


def parse_rate(text: str) -> int:
    """ "1.5%", "1.5" (per cent) or "150bp" → basis points; exact (no float), at most 2 decimals."""
    raw = text.strip().lower().replace(" ", "")
    try:
        if raw.endswith("bp"):
            bp = int(raw[:-2])
        else:
            whole, _, cents = raw.removesuffix("%").partition(".")
            if not whole.isdigit() or (cents and (not cents.isdigit() or len(cents) > 2)):
                raise ValueError(raw)
            bp = int(whole) * 100 + int(cents.ljust(2, "0") or "0")
    except ValueError as exc:
        raise InvalidRate("利率应写作百分数（如 1.5%）或基点（如 150bp），至多两位小数") from exc
    if not 0 < bp <= MAX_RATE_BP:
        raise InvalidRate("利率应大于 0 且不超过 100%")
    return bp


def format_rate(rate_bp: int) -> str:
    return f"{rate_bp // 100}.{rate_bp % 100:02d}%"


def year_interest(balance_fen: int, rate_bp: int) -> int:
    """A year's interest on the year-end balance, rounded half up to the fen."""
    if balance_fen <= 0:
        return 0
    return (balance_fen * rate_bp + 5000) // 10_000


def year_cutoff(year: int) -> datetime:
    """The first instant after the year, Beijing time (entries before it make the balance)."""
    return datetime(year + 1, 1, 1, tzinfo=CHINA_TZ)


def interest_key(year: int, account_id: int) -> str:
    return f"interest:{year}:{account_id}"
