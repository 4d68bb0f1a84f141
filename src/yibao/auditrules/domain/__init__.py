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

from yibao.auditrules.domain.evaluation import (
    Bill,
    Dispense,
    Finding,
    Line,
    Outcome,
    age_on,
    evaluate,
    refusal,
)
from yibao.auditrules.domain.rules import (
    ANY_ITEM_KINDS,
    APPROVE_ROLES,
    DSPO_WAYS,
    GENDER_NAMES,
    KIND_NAMES,
    KIND_PARAMS,
    N_,
    PARAM_NAMES,
    PROPOSE_ROLES,
    SEV_DEG,
    SEVERITY_NAMES,
    WARN_TYPES,
    AuditBlocked,
    InvalidRule,
    Rule,
    RuleDecided,
    RuleKind,
    RuleNotFound,
    RuleRoleNotAllowed,
    RuleVersion,
    SelfApprovalRefused,
    Severity,
    UnknownFinding,
    check_checker,
    check_disposal,
    check_roles,
    check_rule,
    rules_in_force,
)

__all__ = [
    "ANY_ITEM_KINDS",
    "APPROVE_ROLES",
    "DSPO_WAYS",
    "GENDER_NAMES",
    "KIND_NAMES",
    "KIND_PARAMS",
    "N_",
    "PARAM_NAMES",
    "PROPOSE_ROLES",
    "SEVERITY_NAMES",
    "SEV_DEG",
    "WARN_TYPES",
    "AuditBlocked",
    "Bill",
    "Dispense",
    "Finding",
    "InvalidRule",
    "Line",
    "Outcome",
    "Rule",
    "RuleDecided",
    "RuleKind",
    "RuleNotFound",
    "RuleRoleNotAllowed",
    "RuleVersion",
    "SelfApprovalRefused",
    "Severity",
    "UnknownFinding",
    "age_on",
    "check_checker",
    "check_disposal",
    "check_roles",
    "check_rule",
    "evaluate",
    "refusal",
    "rules_in_force",
]
