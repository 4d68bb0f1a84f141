"""The rule book's vocabulary: kinds, severities, limits as staff type them, versions, and
what 3103 may answer. The rules themselves are summed up in the package's docstring."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
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
