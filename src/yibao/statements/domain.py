"""Rules of what a person reads about their own account.

- Every figure comes from the ledger (and the settlement rows its entries point to); nothing here
  keeps a copy. The balance is the sum of the entries.
- 消费记录 lists the account's outgoing entries (consumption, family mutual aid, paying a
  relative's resident contribution) and the reversals that gave such money back. Filters: time
  range (default the last 12 months), kind, institution, self / family. When filters hide records
  the reader is told how many, and how to widen them (the seed's "明细显示不全").
- Pages are cut by keyset (the time and id of the last row shown), never by offset, so the tenth
  thousandth entry costs what the first does.
- 缴费记录 shows each month; months missing between the first and the last record are gaps the
  person sees as 欠费.
- Times are shown in Beijing time; a day range [since, until] covers whole Beijing days.
"""

from __future__ import annotations

import base64
import binascii
import functools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from yibao.kernel.clock import CHINA_TZ
from yibao.kernel.errors import InvalidInput

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
DEFAULT_WINDOW_MONTHS = 12
# A statement longer than this many years is a paper book, not a statement. Lists have no cap:
# keyset pages cost the same however wide the range.
MAX_STATEMENT_DAYS = 366 * 5
# The earliest day a list can start from ("all records"): before the 1998 employee scheme.
EARLIEST_DAY = date(1990, 1, 1)


class InvalidFilter(InvalidInput):
    code = "invalid_filter"


class ConsumptionKind(StrEnum):
    SETTLEMENT = "settlement"  # 医药消费 (settlement_debit)
    MUTUAL_AID = "mutual_aid"  # 家庭共济支付 (mutual_aid_debit)
    RELATIVE_CONTRIBUTION = "relative_contribution"  # 代缴居民医保
    REFUND = "refund"  # 冲正退回 (a reversal that gave money back)


LEDGER_KINDS = {
    ConsumptionKind.SETTLEMENT: "settlement_debit",
    ConsumptionKind.MUTUAL_AID: "mutual_aid_debit",
    ConsumptionKind.RELATIVE_CONTRIBUTION: "relative_contribution_debit",
    ConsumptionKind.REFUND: "reversal",
}

CONSUMPTION_KIND_NAMES = {
    ConsumptionKind.SETTLEMENT: "医药消费",
    ConsumptionKind.MUTUAL_AID: "家庭共济支付",
    ConsumptionKind.RELATIVE_CONTRIBUTION: "代缴居民医保",
    ConsumptionKind.REFUND: "冲正退回",
}


def consumption_kind_of(ledger_kind: str) -> ConsumptionKind:
    for kind, name in LEDGER_KINDS.items():
        if name == ledger_kind:
            return kind
    raise InvalidFilter(f"记账类型 {ledger_kind} 不属于消费记录")


class Scope(StrEnum):
    ALL = "all"
    SELF = "self"  # spent on the holder
    FAMILY = "family"  # spent on a relative (家庭共济, 代缴)


MED_TYPE_NAMES = {
    "11": "普通门诊",
    "13": "急诊",
    "14": "门诊慢特病",
    "21": "普通住院",
    "41": "定点药店购药",
}

ITEM_CLASS_NAMES = {"01": "甲类", "02": "乙类", "03": "丙类"}

INSTITUTION_TYPE_NAMES = {"H": "医院", "P": "药店"}

CONTRIBUTION_STATUS_NAMES = {"normal": "正常", "arrears": "欠费", "backpaid": "补缴", "gap": "欠费"}


def institution_type(code: str | None) -> str | None:
    if code and code[:1] in INSTITUTION_TYPE_NAMES:
        return code[:1]
    return None


@dataclass(frozen=True, slots=True)
class DayRange:
    """Whole Beijing days, both ends included."""

    since: date
    until: date

    def start_utc(self) -> datetime:
        return datetime.combine(self.since, time(), CHINA_TZ).astimezone(UTC)

    def end_utc(self) -> datetime:
        """The first instant after the range."""
        return datetime.combine(self.until + timedelta(days=1), time(), CHINA_TZ).astimezone(UTC)


def months_back(today: date, months: int) -> date:
    """The day `months` months before `today`, plus one day: a window that ends today."""
    index = today.year * 12 + today.month - 1 - months
    year, month = divmod(index, 12)
    day = min(today.day, _days_in_month(year, month + 1))
    return date(year, month + 1, day) + timedelta(days=1)


def _days_in_month(year: int, month: int) -> int:
    following = date(year + (month == 12), month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def parse_day(raw: str | None, label: str) -> date | None:
    if raw is None or not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError as exc:
        raise InvalidFilter(f"{label}应为日期 YYYY-MM-DD，收到 {raw!r}") from exc


def day_range(since: date | None, until: date | None, today: date) -> DayRange:
    until = until or today
    since = since or months_back(until, DEFAULT_WINDOW_MONTHS)
    if since > until:
        raise InvalidFilter("开始日期不能晚于结束日期")
    return DayRange(since, until)


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the previous page ended: the time and id of its last row."""

    created_at: datetime
    entry_id: int

    def encode(self) -> str:
        raw = f"{self.created_at.astimezone(UTC).isoformat()}|{self.entry_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def decode(token: str | None) -> Cursor | None:
        if not token:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            at_text, id_text = raw.split("|")
            at = datetime.fromisoformat(at_text)
            entry_id = int(id_text)
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise InvalidFilter("翻页参数无效，请回到第一页重新查询") from exc
        if at.tzinfo is None or entry_id < 1:
            raise InvalidFilter("翻页参数无效，请回到第一页重新查询")
        return Cursor(at, entry_id)


def page_size(raw: int | None) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= raw <= MAX_PAGE_SIZE:
        raise InvalidFilter(f"每页条数应在 1 到 {MAX_PAGE_SIZE} 之间")
    return raw


@dataclass(frozen=True, slots=True)
class ConsumptionFilter:
    days: DayRange
    kind: ConsumptionKind | None = None
    institution: str | None = None  # a code (exact) or part of a name
    scope: Scope = Scope.ALL

    def narrowed(self, default_days: DayRange) -> list[str]:
        """Which settings differ from the defaults, in the words the person sees."""
        hints: list[str] = []
        if self.days != default_days:
            hints.append("时间范围")
        if self.kind is not None:
            hints.append("类型")
        if self.institution:
            hints.append("机构")
        if self.scope != Scope.ALL:
            hints.append("本人/家庭")
        return hints


def parse_consumption_filter(
    *,
    since: str | None,
    until: str | None,
    kind: str | None,
    institution: str | None,
    scope: str | None,
    today: date,
) -> ConsumptionFilter:
    days = day_range(parse_day(since, "开始日期"), parse_day(until, "结束日期"), today)
    chosen_kind: ConsumptionKind | None = None
    if kind:
        try:
            chosen_kind = ConsumptionKind(kind)
        except ValueError as exc:
            names = "、".join(k.value for k in ConsumptionKind)
            raise InvalidFilter(f"消费类型应为 {names} 之一") from exc
    try:
        chosen_scope = Scope(scope or "all")
    except ValueError as exc:
        raise InvalidFilter("范围应为 all（全部）、self（本人）或 family（家庭）") from exc
    text = (institution or "").strip()
    if len(text) > 60:
        raise InvalidFilter("机构名称或编码过长")
    return ConsumptionFilter(days, chosen_kind, text or None, chosen_scope)


@dataclass(frozen=True, slots=True)
class ContributionMonth:
    month: str
    status: str  # normal | arrears | backpaid | gap
    base_fen: int | None = None
    employer_fen: int | None = None
    personal_fen: int | None = None
    credited_fen: int | None = None
    arrived_on: date | None = None

    @property
    def owing(self) -> bool:
        return self.status in {"arrears", "gap"}


@dataclass(frozen=True, slots=True)
class MonthlyTotal:
    month: str  # YYYY-MM
    spent_fen: int


def last_months(today: date, count: int) -> list[str]:
    """The `count` calendar months ending with today's, oldest first."""
    current = today.year * 12 + today.month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(current - count + 1, current + 1)]


@functools.lru_cache(maxsize=512)  # the overview asks for 14 of them on every view
def month_start_utc(month: str) -> datetime:
    return datetime(int(month[:4]), int(month[5:7]), 1, tzinfo=CHINA_TZ).astimezone(UTC)


def next_month(month: str) -> str:
    index = int(month[:4]) * 12 + int(month[5:7])
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass
class StatementLine:
    at: datetime
    kind: str
    amount_fen: int
    balance_after_fen: int
    counterparty: str
    reference: str | None


@dataclass
class Statement:
    """《医疗保险个人账户结算单》 for a period: opening, every entry, closing."""

    person_name: str
    psn_no: str
    id_number_masked: str
    insutype: str | None
    region_name: str | None
    days: DayRange
    opening_fen: int
    closing_fen: int
    printed_at: datetime
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def credits_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines if line.amount_fen > 0)

    @property
    def debits_fen(self) -> int:
        return -sum(line.amount_fen for line in self.lines if line.amount_fen < 0)
