"""The comparisons of 对账: a period, the four totals of 3201 and the line-by-line 3202.

What yibao and the institution each count (`Totals`, `DetailLine`), the clearing classes and
insurance types a 3201 may name, and the pure rules that compare the two sides and put the
outcome into words (`compare_totals`, `compare_details`, `describe_details`, `totals_of`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from yibao.kernel.clock import CHINA_TZ
from yibao.kernel.errors import InvalidInput
from yibao.kernel.money import Fen, format_yuan

MAX_PERIOD_DAYS = 366

# 清算类别 (clr_type) → the medical types (med_type) it covers. The national codes are regional
# dictionaries; these three are the ones a clinic and a pharmacy send.
CLEARING_CLASSES: dict[str, tuple[str, ...]] = {
    "11": ("11", "13", "14"),  # 门诊 (普通门诊, 急诊, 门诊慢特病)
    "21": ("21",),  # 住院
    "41": ("41",),  # 定点药店购药
}

INSURANCE_TYPES = frozenset({"310", "320", "330", "340", "390", "392", "510"})

MATCH, MISMATCH = "0", "1"  # stmt_rslt: 平, 不平


class Difference(StrEnum):
    YIBAO_ONLY = "yibao_only"
    INSTITUTION_ONLY = "institution_only"
    AMOUNTS_DIFFER = "amounts_differ"


@dataclass(frozen=True, slots=True)
class Period:
    begin: date
    end: date

    @classmethod
    def of(cls, begin: date, end: date, where: str) -> Period:
        if end < begin:
            raise InvalidInput(f"{where}.stmt_enddate 不能早于 stmt_begndate")
        if (end - begin).days + 1 > MAX_PERIOD_DAYS:
            raise InvalidInput(f"{where}.stmt_enddate 对账期间最长 {MAX_PERIOD_DAYS} 天")
        return cls(begin, end)

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as [start, end) instants (Beijing midnights)."""
        start = datetime.combine(self.begin, time(), CHINA_TZ)
        stop = datetime.combine(self.end + timedelta(days=1), time(), CHINA_TZ)
        return start, stop


@dataclass(frozen=True, slots=True)
class Totals:
    count: int
    medfee_sumamt: Fen
    fund_pay_sumamt: Fen
    acct_pay: Fen


@dataclass(frozen=True, slots=True)
class TotalsResult:
    matches: bool
    description: str

    @property
    def stmt_rslt(self) -> str:
        return MATCH if self.matches else MISMATCH


_FIGURES = (
    ("fixmedins_setl_cnt", "结算笔数"),
    ("medfee_sumamt", "医疗费总额"),
    ("fund_pay_sumamt", "基金支付总额"),
    ("acct_pay", "个人账户支付"),
)


def compare_totals(theirs: Totals, ours: Totals) -> TotalsResult:
    pairs = (
        (theirs.count, ours.count, False),
        (theirs.medfee_sumamt, ours.medfee_sumamt, True),
        (theirs.fund_pay_sumamt, ours.fund_pay_sumamt, True),
        (theirs.acct_pay, ours.acct_pay, True),
    )
    differing = [
        f"{words}（{name}）本机构 {_shown(a, money)}，医保 {_shown(b, money)}"
        for (name, words), (a, b, money) in zip(_FIGURES, pairs, strict=True)
        if a != b
    ]
    if not differing:
        return TotalsResult(
            True, f"对账一致：{ours.count} 笔，医疗费总额 {format_yuan(ours.medfee_sumamt)} 元"
        )
    return TotalsResult(False, "对账不一致：" + "；".join(differing))


def _shown(value: int, money: bool) -> str:
    return f"{format_yuan(value)} 元" if money else f"{value} 笔"


@dataclass(frozen=True, slots=True)
class DetailLine:
    """One settlement as one side keeps it."""

    setl_id: str
    mdtrt_id: str
    psn_no: str
    medfee_sumamt: Fen
    fund_pay_sumamt: Fen
    acct_pay: Fen

    def amounts(self) -> tuple[int, int, int]:
        return (self.medfee_sumamt, self.fund_pay_sumamt, self.acct_pay)


@dataclass(frozen=True, slots=True)
class DetailDifference:
    kind: Difference
    setl_id: str
    ours: DetailLine | None
    theirs: DetailLine | None
    memo: str


@dataclass(frozen=True, slots=True)
class DetailResult:
    differences: list[DetailDifference]
    matched: list[str]  # setl_ids on both sides with the same amounts

    @property
    def matches(self) -> bool:
        return not self.differences


YIBAO_ONLY_MEMO = "医保有此结算、机构无：可能是未收到应答的结算，请用 5203 查询后记账（再次对账即确认），或用 2601 冲正"
AMOUNTS_MEMO = "金额不符：医保 {ours}，机构 {theirs}"


def compare_details(
    ours: Mapping[str, DetailLine],
    theirs: Mapping[str, DetailLine],
    elsewhere: Mapping[str, str],
) -> DetailResult:
    """`elsewhere`: for setl_ids only the institution has, why yibao does not count them
    (cancelled, another period …), as words for the memo."""
    differences: list[DetailDifference] = []
    matched: list[str] = []
    for setl_id, mine in ours.items():
        other = theirs.get(setl_id)
        if other is None:
            differences.append(
                DetailDifference(Difference.YIBAO_ONLY, setl_id, mine, None, YIBAO_ONLY_MEMO)
            )
        elif other.amounts() != mine.amounts():
            memo = AMOUNTS_MEMO.format(ours=_amounts(mine), theirs=_amounts(other))
            differences.append(
                DetailDifference(Difference.AMOUNTS_DIFFER, setl_id, mine, other, memo)
            )
        else:
            matched.append(setl_id)
    for setl_id, other in theirs.items():
        if setl_id not in ours:
            memo = "机构有此结算、医保无：" + elsewhere.get(setl_id, "医保没有这笔结算")
            differences.append(
                DetailDifference(Difference.INSTITUTION_ONLY, setl_id, None, other, memo)
            )
    return DetailResult(differences, matched)


def _amounts(line: DetailLine) -> str:
    return (
        f"医疗费 {format_yuan(line.medfee_sumamt)}、基金 {format_yuan(line.fund_pay_sumamt)}、"
        f"个人账户 {format_yuan(line.acct_pay)}"
    )


def describe_details(result: DetailResult, compared: int) -> str:
    if result.matches:
        return f"明细一致：{compared} 笔"
    counts = {kind: 0 for kind in Difference}
    for difference in result.differences:
        counts[difference.kind] += 1
    parts = [
        f"医保有、机构无 {counts[Difference.YIBAO_ONLY]} 笔",
        f"机构有、医保无 {counts[Difference.INSTITUTION_ONLY]} 笔",
        f"金额不符 {counts[Difference.AMOUNTS_DIFFER]} 笔",
    ]
    return "明细不一致：" + "，".join(parts)


def totals_of(lines: Iterable[DetailLine]) -> Totals:
    count = medfee = fund = acct = 0
    for line in lines:
        count += 1
        medfee += line.medfee_sumamt
        fund += line.fund_pay_sumamt
        acct += line.acct_pay
    return Totals(count, medfee, fund, acct)
