"""Evaluating the rules in force over a bill: each kind's finding, with the lines it concerns
and a message a cashier can act on."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from yibao.auditrules.domain.rules import GENDER_NAMES, KIND_NAMES, Rule, RuleKind, Severity


@dataclass(frozen=True, slots=True)
class Line:
    """A fee line (2204/2102) or an order (3101's fsi_order_dtos), as the rules read it."""

    line_id: str  # feedetl_sn or rx_id
    med_list_codg: str
    name: str
    cnt: Decimal
    amount_fen: int
    day: date
    chrgitm_lv: str | None = None  # 01 甲类, 02 乙类, 03 丙类; None when not in the catalogue


@dataclass(frozen=True, slots=True)
class Dispense:
    """The item settled for the person at another institution."""

    med_list_codg: str
    cnt: Decimal
    day: date
    fixmedins_code: str


@dataclass(frozen=True, slots=True)
class Bill:
    psn_no: str
    mdtrt_id: str
    gender: str
    birth_date: date
    insutype: str
    fixmedins_code: str
    hosp_lv: str | None
    day: date
    diagnoses: tuple[str, ...]
    lines: tuple[Line, ...]
    history: tuple[Dispense, ...] = ()


@dataclass(frozen=True, slots=True)
class Finding:
    rule_code: str
    rule_version: int
    rule_version_id: int
    rule_name: str
    kind: str
    severity: str
    line_ids: tuple[str, ...]
    message: str
    amount_fen: int

    @property
    def code(self) -> str:
        return self.kind

    @property
    def blocks(self) -> bool:
        return self.severity == Severity.BLOCK


@dataclass
class Outcome:
    findings: list[Finding] = field(default_factory=list)

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.blocks]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if not f.blocks]


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _amount(lines: Sequence[Line]) -> int:
    return sum(line.amount_fen for line in lines)


def _ids(lines: Sequence[Line]) -> str:
    return "、".join(line.line_id for line in lines)


def _fmt(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def _finding(rule: Rule, lines: Sequence[Line], what: str, todo: str) -> Finding:
    item = f"{lines[0].name}（{lines[0].med_list_codg}）" if lines else rule.med_list_codg
    action = "已拦截，不能结算" if rule.severity == Severity.BLOCK else "请核实"
    return Finding(
        rule_code=rule.rule_code,
        rule_version=rule.version,
        rule_version_id=rule.version_id,
        rule_name=rule.name,
        kind=rule.kind,
        severity=rule.severity,
        line_ids=tuple(line.line_id for line in lines),
        message=(
            f"【{KIND_NAMES[rule.kind]}·{rule.rule_code}】{item}{what}（明细 {_ids(lines)}），"
            f"{action}：{todo}"
        ),
        amount_fen=_amount(lines),
    )


def _check(rule: Rule, bill: Bill, lines: list[Line]) -> list[Finding]:
    kind = rule.kind
    if kind == RuleKind.QUANTITY:
        total = sum((line.cnt for line in lines), Decimal(0))
        limit = rule.number("max_cnt")
        if total > limit:
            return [
                _finding(
                    rule,
                    lines,
                    f"本次数量 {_fmt(total)}，超过限量 {_fmt(limit)}",
                    "按限量减少数量，或超出部分改为自费",
                )
            ]
    elif kind == RuleKind.SUPPLY_DAYS:
        total = sum((line.cnt for line in lines), Decimal(0))
        supply = total * rule.number("days_per_unit")
        most = int(rule.params["max_days"])
        if supply > most:
            return [
                _finding(
                    rule,
                    lines,
                    f"本次可用 {_fmt(supply)} 天，超过最长 {most} 天",
                    f"按 {most} 天用量调整数量",
                )
            ]
    elif kind == RuleKind.GENDER:
        wanted = rule.params["gend"]
        if bill.gender != wanted:
            return [
                _finding(
                    rule,
                    lines,
                    f"限{GENDER_NAMES[wanted]}性使用，参保人为{GENDER_NAMES.get(bill.gender, '未知')}性",
                    "核对参保人和项目，不符的删除该明细",
                )
            ]
    elif kind == RuleKind.AGE:
        age = age_on(bill.birth_date, bill.day)
        low, high = int(rule.params["min_age"]), int(rule.params["max_age"])
        if not low <= age <= high:
            return [
                _finding(
                    rule,
                    lines,
                    f"限 {low}–{high} 岁使用，参保人 {age} 岁",
                    "核对参保人和项目，不符的删除该明细或改为自费",
                )
            ]
    elif kind == RuleKind.INSUTYPE:
        allowed = rule.words("insutypes")
        if bill.insutype not in allowed:
            return [
                _finding(
                    rule,
                    lines,
                    f"限险种 {'、'.join(allowed)} 报销，参保人险种为 {bill.insutype}",
                    "该明细改为自费，或删除",
                )
            ]
    elif kind == RuleKind.HOSP_LV:
        allowed = rule.words("hosp_lvs")
        level = bill.hosp_lv or ""
        if not any(level.startswith(lv) for lv in allowed):
            return [
                _finding(
                    rule,
                    lines,
                    f"限 {'、'.join(allowed)} 医疗机构收费，本机构等级为 {level or '未登记'}",
                    "删除该明细，或转诊至符合等级的机构",
                )
            ]
    elif kind == RuleKind.DUPLICATE_DAY:
        found = []
        by_item_day: dict[tuple[str, date], list[Line]] = defaultdict(list)
        for line in lines:
            by_item_day[(line.med_list_codg, line.day)].append(line)
        for (_, day), same in sorted(by_item_day.items()):
            if len(same) > 1:
                found.append(
                    _finding(
                        rule,
                        same,
                        f"{day:%Y-%m-%d} 重复收费 {len(same)} 次",
                        "合并为一条或删除重复的明细",
                    )
                )
        return found
    elif kind == RuleKind.REPEAT_SUPPLY:
        per_unit = rule.number("days_per_unit")
        for past in bill.history:
            if past.med_list_codg != rule.med_list_codg:
                continue
            lasts = int((past.cnt * per_unit).to_integral_value(rounding="ROUND_CEILING"))
            runs_out = past.day + timedelta(days=lasts)
            if past.fixmedins_code != bill.fixmedins_code and runs_out > bill.day:
                return [
                    _finding(
                        rule,
                        lines,
                        f"参保人 {past.day:%Y-%m-%d} 已在其他机构取药 {_fmt(past.cnt)}，"
                        f"可用至 {runs_out - timedelta(days=1):%Y-%m-%d}",
                        "询问参保人余药，确需取药的请医师说明原因",
                    )
                ]
    elif kind == RuleKind.CLASS_B_DIAGNOSIS:
        class_b = [line for line in lines if line.chrgitm_lv == "02"]
        prefixes = rule.words("dise_codes")
        if class_b and not any(d.startswith(prefixes) for d in bill.diagnoses):
            return [
                _finding(
                    rule,
                    class_b,
                    f"为乙类限定用药，限诊断 {'、'.join(prefixes)}，本次诊断无相符",
                    "补充相符的诊断（2203），或该明细改为自费",
                )
            ]
    return []


def evaluate(rules: Iterable[Rule], bill: Bill) -> Outcome:
    """Every rule over the bill's lines; findings in rule order."""
    by_item: dict[str, list[Line]] = defaultdict(list)
    for line in bill.lines:
        by_item[line.med_list_codg].append(line)
    outcome = Outcome()
    for rule in rules:
        lines = list(bill.lines) if rule.med_list_codg == "*" else by_item.get(rule.med_list_codg)
        if lines:
            outcome.findings.extend(_check(rule, bill, lines))
    return outcome


def refusal(blocking: Sequence[Finding]) -> str:
    """The err_msg of a settlement a blocking finding stops."""
    return "明细审核未通过：" + "；".join(f.message for f in blocking)
