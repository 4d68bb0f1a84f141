"""Rules of the monthly crediting run (划账) of a whole province.

- A run credits one month (费款所属期 up to that month: earlier months are 补缴 or corrections).
  Its input is the month's contribution file (CSV: id_number, month, base, employer_amount,
  personal_amount), or a directory of employer files with that header.
- Each line is checked on its own; a refused line is reported with its reason and never stops
  the others. Refused: wrong encoding, a missing column or field, a bad ID number, a bad month, a
  month after the run's, an amount that is negative or has more than two decimals, a person not
  enrolled (or not in employee insurance, or not in normal status, or outside the run's region,
  or without an account), a retiree (retirees are credited from their enrolment, never from a
  file), and every line of a person-month that appears more than once in the run's files.
- An employee is credited the region's rate of the base (the 2021 reform: the personal part);
  nothing when nothing was paid (欠费). Every retiree in normal status is credited the region's
  fixed monthly amount, whether or not a file names them.
- Exactly once: the first credit of a person-month has the key `contribution:<person>:<month>`;
  a later change of that month credits only the difference, as its own entry keyed by the run
  (`contribution:<person>:<month>:run<id>`). A month credited already with the same amounts is
  unchanged. A decrease is not taken back by a run: it is refused, for staff to adjust.
- A run moves through its states in order, each step committed with its cursor, so a run killed
  anywhere carries on from its last commit: loading → deduping → retirees → crediting → totals →
  done. Only one run is open at a time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from yibao.contributions.domain import (
    ContributionAmounts,
    InvalidContribution,
    credited_amount,
    month_index,
    parse_month,
)
from yibao.kernel.errors import Conflict, DomainError, InvalidInput, NotFound
from yibao.kernel.idnumber import is_valid_id_number

HEADER = ("id_number", "month", "base", "employer_amount", "personal_amount")


class RunState(StrEnum):
    PROPOSED = "proposed"  # waiting for a second staff member's approval
    LOADING = "loading"
    DEDUPING = "deduping"
    RETIREES = "retirees"
    CREDITING = "crediting"
    TOTALS = "totals"
    DONE = "done"
    REJECTED = "rejected"


OPEN_STATES = frozenset(
    {RunState.LOADING, RunState.DEDUPING, RunState.RETIREES, RunState.CREDITING, RunState.TOTALS}
)

STATE_NAMES = {
    RunState.PROPOSED: "待复核",
    RunState.LOADING: "读取文件",
    RunState.DEDUPING: "查重",
    RunState.RETIREES: "退休人员",
    RunState.CREDITING: "划账中",
    RunState.TOTALS: "汇总",
    RunState.DONE: "已完成",
    RunState.REJECTED: "已驳回",
}


class Origin(StrEnum):
    FILE = "file"
    RETIREE = "retiree"


class Outcome(StrEnum):
    NEW = "new"  # loaded, not yet checked against enrolment
    CHECKED = "checked"  # to be credited
    REFUSED = "refused"
    CREDITED = "credited"
    UNCHANGED = "unchanged"  # credited already with the same amounts
    ARREARS = "arrears"  # recorded, nothing paid, nothing credited


class Refusal(StrEnum):
    ENCODING = "encoding"
    HEADER = "header"
    MISSING_FIELD = "missing_field"
    ID_NUMBER = "id_number"
    MONTH = "month"
    FUTURE_MONTH = "future_month"
    AMOUNT = "amount"
    NOT_ENROLLED = "not_enrolled"
    NOT_EMPLOYEE = "not_employee"
    NOT_ACTIVE = "not_active"
    RETIREE_IN_FILE = "retiree_in_file"
    OTHER_REGION = "other_region"
    NO_ACCOUNT = "no_account"
    DUPLICATE = "duplicate"
    DECREASE = "decrease"
    LEDGER = "ledger"


REFUSAL_REASONS = {
    Refusal.ENCODING: "不是 UTF-8 编码",
    Refusal.HEADER: "表头缺少列",
    Refusal.MISSING_FIELD: "字段不全，应有 " + "、".join(HEADER),
    Refusal.ID_NUMBER: "身份证号有误",
    Refusal.MONTH: "费款所属期应为 YYYY-MM",
    Refusal.FUTURE_MONTH: "费款所属期晚于本次划账月份",
    Refusal.AMOUNT: "金额应为不超过两位小数的非负数",
    Refusal.NOT_ENROLLED: "找不到该参保人",
    Refusal.NOT_EMPLOYEE: "不是职工医保参保人，没有个人账户",
    Refusal.NOT_ACTIVE: "参保状态不是正常参保",
    Refusal.RETIREE_IN_FILE: "退休人员按月定额划入，不应出现在缴费文件中",
    Refusal.OTHER_REGION: "不属于本次划账的统筹区",
    Refusal.NO_ACCOUNT: "没有个人账户",
    Refusal.DUPLICATE: "同一人同一月份在文件中出现多次",
    Refusal.DECREASE: "更正后划入金额减少，须由经办人员调整",
    Refusal.LEDGER: "记账被拒绝",
}


class InvalidRun(InvalidInput):
    code = "invalid_crediting_run"


class RunAlreadyOpen(Conflict):
    code = "crediting_run_open"


class UnknownRun(NotFound):
    code = "unknown_crediting_run"


@dataclass(frozen=True, slots=True)
class LineFields:
    """A file line that passed the checks a line can pass alone."""

    id_number: str
    month: str
    amounts: ContributionAmounts


def check_run_month(raw: str, current_month: str) -> str:
    try:
        month = parse_month(raw)
    except InvalidContribution as exc:
        raise InvalidRun(exc.message) from exc
    if month_index(month) > month_index(current_month):
        raise InvalidRun(f"划账月份 {month} 尚未到来")
    return month


def header_columns(names: list[str]) -> dict[str, int] | Refusal:
    """Where each needed column is, or HEADER when one is missing (any order; extras ignored)."""
    cleaned = [n.strip().lstrip("\ufeff") for n in names]
    if any(column not in cleaned for column in HEADER):
        return Refusal.HEADER
    return {column: cleaned.index(column) for column in HEADER}


def missing_columns(names: list[str]) -> list[str]:
    cleaned = [n.strip().lstrip("\ufeff") for n in names]
    return [column for column in HEADER if column not in cleaned]


def check_line(fields: list[str], columns: dict[str, int], run_month: str) -> LineFields | Refusal:
    """The checks a line passes alone, in the order a clerk would read it (a million lines a
    run: no per-line objects but the result)."""
    try:
        raw_id, raw_month, raw_base, raw_employer, raw_personal = [
            fields[columns[name]].strip() for name in HEADER
        ]
    except IndexError:
        return Refusal.MISSING_FIELD
    if not (raw_id and raw_month and raw_base and raw_employer and raw_personal):
        return Refusal.MISSING_FIELD
    id_number = raw_id.upper()
    if not is_valid_id_number(id_number):
        return Refusal.ID_NUMBER
    if raw_month != run_month:  # the run's own month passed these when the run was made
        try:
            month = parse_month(raw_month)
        except DomainError:
            return Refusal.MONTH
        if month_index(month) > month_index(run_month):
            return Refusal.FUTURE_MONTH
    base = _fen(raw_base)
    employer = _fen(raw_employer)
    personal = _fen(raw_personal)
    if base is None or employer is None or personal is None:
        return Refusal.AMOUNT
    return LineFields(id_number, raw_month, ContributionAmounts(base, employer, personal))


# Yuan with at most two decimals, never negative, at most 13 digits of yuan (kernel.money's
# rule for amounts at the edge), parsed without Decimal: a province's file has millions of them.
_AMOUNT = re.compile(r"^(\d{1,13})(?:\.(\d{1,2}))?$")


def _fen(text: str) -> int | None:
    found = _AMOUNT.match(text)
    if found is None:
        return None
    cents = found.group(2) or "0"
    return int(found.group(1)) * 100 + int(cents.ljust(2, "0"))


@dataclass(frozen=True, slots=True)
class Credit:
    """What crediting one checked line does: the month's credited total afterwards, and the
    entry to post (None when nothing moves)."""

    outcome: Outcome
    target_fen: int
    delta_fen: int
    key: str | None
    refusal: Refusal | None = None


def first_key(person_id: int, month: str) -> str:
    return f"contribution:{person_id}:{month}"


def correction_key(person_id: int, month: str, run_id: int) -> str:
    return f"contribution:{person_id}:{month}:run{run_id}"


def decide(
    *,
    run_id: int,
    person_id: int,
    month: str,
    amounts: ContributionAmounts,
    retired: bool,
    credit_rate_bp: int,
    retiree_monthly_credit_fen: int,
    recorded_fen: int | None,
) -> Credit:
    """`recorded_fen`: what the month's record says was credited so far (None: no record)."""
    target = credited_amount(
        amounts,
        retired=retired,
        credit_rate_bp=credit_rate_bp,
        retiree_monthly_credit_fen=retiree_monthly_credit_fen,
    )
    if recorded_fen is None:
        if target == 0:
            return Credit(Outcome.ARREARS, 0, 0, None)
        return Credit(Outcome.CREDITED, target, target, first_key(person_id, month))
    credited = recorded_fen
    delta = target - credited
    if delta == 0:
        return Credit(Outcome.UNCHANGED, target, 0, None)
    if delta < 0:
        return Credit(Outcome.REFUSED, credited, 0, None, Refusal.DECREASE)
    return Credit(Outcome.CREDITED, target, delta, correction_key(person_id, month, run_id))
