"""Rules of the detail audit (明细审核): 3101 before settlement (事前), 3102 during (事中), and the
check every 2206/2207 and 2101/2102 runs on its bill.

- A rule names one catalogue item (`med_list_codg`; `*` for every item, where the kind allows
  it), a kind, a severity and its limits. `block` (拦截) stops settlement with the finding's
  message; `warn` (提醒) lets it through with the message in warn_msg.
- Kinds: quantity (the bill's count of the item above `max_cnt`); supply_days (count ×
  `days_per_unit` above `max_days`); gender (the item is for `gend` 1 男 / 2 女 only); age (the
  person's age on the day outside `min_age`–`max_age`); insutype (the insurance types that cover
  the item); hosp_lv (the institution levels, by prefix, that may bill it); duplicate_day (the
  item on more than one line of one day); repeat_supply (the person was dispensed the item at
  another institution and that supply, count × `days_per_unit` days, has not run out);
  class_b_diagnosis (a 乙类 item billed without one of the diagnoses, by code prefix, it is
  restricted to).
- Rules are versioned: a change is a new version that one staff member proposes and another
  approves, in force from its effective date. The rule in force on a day is the latest approved
  version effective on or before it; a version with `enabled` False withdraws the rule.
- A check keeps its findings with the version of the rule that made each, so a later change never
  alters what a past settlement (or a 3101) was told.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from yibao.kernel.errors import Conflict, InvalidInput, NotFound, PermissionDenied


def N_(message: str) -> str:
    """Marks words the pages translate (extracted by scripts/translations); returns them as is."""
    return message


class Severity(StrEnum):
    WARN = "warn"
    BLOCK = "block"


SEVERITY_NAMES = {"warn": N_("提醒"), "block": N_("拦截")}

# The national answer's sev_deg. Our mapping: 1 明确违规 for what blocks, 2 高度可疑 for a warning.
SEV_DEG = {"block": "1", "warn": "2"}


class RuleKind(StrEnum):
    QUANTITY = "quantity"
    SUPPLY_DAYS = "supply_days"
    GENDER = "gender"
    AGE = "age"
    INSUTYPE = "insutype"
    HOSP_LV = "hosp_lv"
    DUPLICATE_DAY = "duplicate_day"
    REPEAT_SUPPLY = "repeat_supply"
    CLASS_B_DIAGNOSIS = "class_b_diagnosis"


KIND_NAMES = {
    "quantity": N_("数量超限"),
    "supply_days": N_("用药天数超限"),
    "gender": N_("性别限定"),
    "age": N_("年龄限定"),
    "insutype": N_("参保险种限定"),
    "hosp_lv": N_("医疗机构等级限定"),
    "duplicate_day": N_("同日重复收费"),
    "repeat_supply": N_("跨机构重复开药"),
    "class_b_diagnosis": N_("乙类限定诊断"),
}

# The limits each kind needs, as staff type them (text), with what they mean.
KIND_PARAMS: dict[str, tuple[str, ...]] = {
    "quantity": ("max_cnt",),
    "supply_days": ("days_per_unit", "max_days"),
    "gender": ("gend",),
    "age": ("min_age", "max_age"),
    "insutype": ("insutypes",),
    "hosp_lv": ("hosp_lvs",),
    "duplicate_day": (),
    "repeat_supply": ("days_per_unit",),
    "class_b_diagnosis": ("dise_codes",),
}

PARAM_NAMES = {
    "max_cnt": N_("最大数量"),
    "days_per_unit": N_("每单位可用天数"),
    "max_days": N_("最长用药天数"),
    "gend": N_("限定性别（1 男，2 女）"),
    "min_age": N_("最小年龄"),
    "max_age": N_("最大年龄"),
    "insutypes": N_("可报销险种（逗号分隔，如 310）"),
    "hosp_lvs": N_("可收费机构等级（逗号分隔，如 三级,二级）"),
    "dise_codes": N_("限定诊断编码前缀（逗号分隔，如 I10,E11）"),
}

GENDER_NAMES = {"1": "男", "2": "女"}

# Kinds that may name every item (`*`).
ANY_ITEM_KINDS = {"duplicate_day"}

RULE_CODE = re.compile(r"^[A-Za-z0-9_-]{1,20}$")
ITEM_CODE = re.compile(r"^[\x21-\x7e]{1,50}$")


class InvalidRule(InvalidInput):
    code = "invalid_audit_rule"


class RuleNotFound(NotFound):
    code = "audit_rule_not_found"


class RuleDecided(Conflict):
    code = "audit_rule_decided"


class SelfApprovalRefused(PermissionDenied):
    code = "audit_rule_self_approval"


class RuleRoleNotAllowed(PermissionDenied):
    code = "audit_rule_role"


class AuditBlocked(Conflict):
    """A blocking finding: the settlement is refused with its message."""

    code = "audit_blocked"


class UnknownFinding(NotFound):
    code = "audit_finding_not_found"


PROPOSE_ROLES = frozenset({"clerk", "reviewer", "admin"})
APPROVE_ROLES = frozenset({"reviewer", "admin"})


def check_roles(roles: frozenset[str], allowed: frozenset[str], what: str) -> None:
    if not roles & allowed:
        raise RuleRoleNotAllowed(f"您的岗位无权{what}")


def check_checker(proposer_staff_id: int | None, checker_staff_id: int) -> None:
    if proposer_staff_id == checker_staff_id:
        raise SelfApprovalRefused("不能复核自己提交的审核规则，须由另一位工作人员复核")


def _count(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise InvalidRule(f"{what}应为数字，收到 {text!r}") from exc
    if not value.is_finite() or value <= 0 or value >= 10**8:
        raise InvalidRule(f"{what}应为大于 0 的数字，收到 {text!r}")
    return value


def _whole(text: str, what: str, *, low: int = 0, high: int = 150) -> int:
    stripped = text.strip()
    if not (stripped.isascii() and stripped.isdigit()) or not low <= int(stripped) <= high:
        raise InvalidRule(f"{what}应为 {low} 到 {high} 的整数，收到 {text!r}")
    return int(stripped)


def _words(text: str, what: str) -> tuple[str, ...]:
    words = tuple(w.strip() for w in text.replace("，", ",").split(",") if w.strip())
    if not words or any(len(w) > 20 for w in words):
        raise InvalidRule(f"{what}不能为空（多个用逗号分隔）")
    return words


def check_rule(
    rule_code: str,
    kind: str,
    med_list_codg: str,
    severity: str,
    name: str,
    params: Mapping[str, str],
) -> dict[str, str]:
    """The rule's limits, checked and normalised; `InvalidRule` names the field."""
    if not RULE_CODE.match(rule_code):
        raise InvalidRule("规则编号应为1到20位字母、数字、下划线或连字符")
    if kind not in KIND_PARAMS:
        raise InvalidRule(f"规则类型应为 {'、'.join(KIND_NAMES.values())} 之一")
    if severity not in SEVERITY_NAMES:
        raise InvalidRule("处理方式应为 提醒（warn）或 拦截（block）")
    if not name.strip() or len(name) > 100:
        raise InvalidRule("规则名称应为1到100个字")
    if med_list_codg == "*":
        if kind not in ANY_ITEM_KINDS:
            raise InvalidRule(f"{KIND_NAMES[kind]}规则须指定一个医保目录编码")
    elif not ITEM_CODE.match(med_list_codg):
        raise InvalidRule("医保目录编码应为1到50位半角字母、数字或符号（不含空格）")
    clean: dict[str, str] = {}
    for key in KIND_PARAMS[kind]:
        text = (params.get(key) or "").strip()
        what = PARAM_NAMES[key]
        if key in {"max_cnt", "days_per_unit"}:
            clean[key] = str(_count(text, what))
        elif key == "max_days":
            clean[key] = str(_whole(text, what, low=1, high=3650))
        elif key in {"min_age", "max_age"}:
            clean[key] = str(_whole(text, what))
        elif key == "gend":
            if text not in GENDER_NAMES:
                raise InvalidRule(f"{what}应为 1 或 2，收到 {text!r}")
            clean[key] = text
        else:
            clean[key] = ",".join(_words(text, what))
    if kind == "age" and int(clean["min_age"]) > int(clean["max_age"]):
        raise InvalidRule("最小年龄不能大于最大年龄")
    return clean


@dataclass(frozen=True, slots=True)
class Rule:
    rule_code: str
    version: int
    kind: str
    med_list_codg: str
    severity: str
    name: str
    params: Mapping[str, str]
    version_id: int = 0

    def number(self, key: str) -> Decimal:
        return Decimal(self.params[key])

    def words(self, key: str) -> tuple[str, ...]:
        return tuple(self.params[key].split(","))


@dataclass(frozen=True, slots=True)
class RuleVersion:
    """A stored version of a rule, as the pick of the rules in force reads it."""

    rule: Rule
    effective_from: date
    approved: bool
    enabled: bool


def rules_in_force(versions: Iterable[RuleVersion], day: date) -> list[Rule]:
    """For each rule, the latest approved version effective on `day`; withdrawn rules drop out."""
    latest: dict[str, RuleVersion] = {}
    for v in versions:
        if not v.approved or v.effective_from > day:
            continue
        held = latest.get(v.rule.rule_code)
        if held is None or (v.effective_from, v.rule.version) > (
            held.effective_from,
            held.rule.version,
        ):
            latest[v.rule.rule_code] = v
    return sorted((v.rule for v in latest.values() if v.enabled), key=lambda r: r.rule_code)


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


# 3103: what the institution did about a warning.
DSPO_WAYS = {"1": "继续执行", "2": "返回修改"}
WARN_TYPES = {"1": "事前", "2": "事中"}


def check_disposal(dspo_way: str, dspo_way_rea: str | None, severity: str) -> None:
    if dspo_way not in DSPO_WAYS:
        raise InvalidRule("dspo_way 应为 1（继续执行）或 2（返回修改）")
    if dspo_way == "1" and not (dspo_way_rea or "").strip():
        raise InvalidRule("dspo_way 为 1（继续执行）时 dspo_way_rea（处理原因）必填")
    if dspo_way == "1" and severity == Severity.BLOCK:
        raise AuditBlocked("拦截类违规不能继续执行，请返回修改（dspo_way 2）")
