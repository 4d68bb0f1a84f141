"""Rules of 异地就医备案: a person insured in one region (参保地) registers treatment in another
(就医地) before being settled there.

- Kinds (DOMAIN.md): 异地长期居住 — 异地安置退休 (retirees only), 异地长期居住, 常驻异地工作 — and
  临时外出就医 — 异地转诊, 异地急诊抢救, 其他临时外出.
- A long-term 备案 is open-ended: it holds until changed or cancelled, and the insured region's
  rule says how long it must have held before either (`change_after_months`, default 6).
- A temporary 备案 holds `temporary_months` (at least 6, the national minimum) from its first day.
  It may be cancelled at any time; changing it is cancelling it and filing again.
- The treatment region is a 6-digit 医保区划 other than the insured region. A 备案 to a province
  ("460000") covers every region of it; to a prefecture ("460200") every county of it.
- A 备案 begins today or later; an 异地急诊抢救 may be filed afterwards, up to
  `emergency_backdate_days` (default 30) before today.
- Documents: 异地转诊 needs the referring institution's referral (转诊单, code and name of the
  institution); the long-term kinds need a proof of residence or work (居住证明 / 工作证明) — an
  uploaded scan or the person's written declaration (个人承诺); the others need nothing.
- One long-term 备案 at a time, and no two active 备案 to the same region that overlap.
- States: 已生效 (active), 已撤销 (cancelled, by the person, the counter or the institution),
  已变更 (replaced by a newer 备案), and 已到期 — not stored: a temporary 备案 whose last day passed.
- The region decides which kinds its people may file (`allowed_kinds`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from yibao.kernel.errors import Conflict, InvalidInput, NotFound, PermissionDenied

_ADMDVS = re.compile(r"^[1-9][0-9]{5}$")
NATIONAL_MIN_TEMPORARY_MONTHS = 6


class FilingKind(StrEnum):
    RETIREE_RESETTLED = "retiree_resettled"  # 异地安置退休
    LONG_TERM_RESIDENT = "long_term_resident"  # 异地长期居住
    WORKING_AWAY = "working_away"  # 常驻异地工作
    REFERRAL = "referral"  # 异地转诊
    EMERGENCY = "emergency"  # 异地急诊抢救
    OTHER_TEMPORARY = "other_temporary"  # 其他临时外出


KIND_NAMES: dict[FilingKind, str] = {
    FilingKind.RETIREE_RESETTLED: "异地安置退休",
    FilingKind.LONG_TERM_RESIDENT: "异地长期居住",
    FilingKind.WORKING_AWAY: "常驻异地工作",
    FilingKind.REFERRAL: "异地转诊",
    FilingKind.EMERGENCY: "异地急诊抢救",
    FilingKind.OTHER_TEMPORARY: "其他临时外出",
}

LONG_TERM_KINDS = frozenset(
    {FilingKind.RETIREE_RESETTLED, FilingKind.LONG_TERM_RESIDENT, FilingKind.WORKING_AWAY}
)


def is_long_term(kind: FilingKind | str) -> bool:
    return kind in LONG_TERM_KINDS


class FilingState(StrEnum):
    ACTIVE = "active"  # 已生效
    CANCELLED = "cancelled"  # 已撤销
    CHANGED = "changed"  # 已变更 (a newer 备案 replaced it)


class ShownState(StrEnum):
    ACTIVE = "active"
    NOT_YET = "not_yet"  # 已生效, first day still ahead
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    CHANGED = "changed"


STATE_NAMES: dict[ShownState, str] = {
    ShownState.ACTIVE: "已生效",
    ShownState.NOT_YET: "已生效（未到开始日期）",
    ShownState.EXPIRED: "已到期",
    ShownState.CANCELLED: "已撤销",
    ShownState.CHANGED: "已变更",
}


class Channel(StrEnum):
    APP = "app"  # the person on the phone pages
    COUNTER = "counter"  # a clerk at the counter
    INSTITUTION = "institution"  # a 定点医疗机构 through the interface (2501)


class DocumentKind(StrEnum):
    REFERRAL = "referral"  # 转诊单 from the referring institution
    UPLOAD = "upload"  # a scan of a residence or work proof
    DECLARATION = "declaration"  # 个人承诺: the person declares it in writing


class InvalidFiling(InvalidInput):
    code = "invalid_filing"


class FilingNotAllowed(PermissionDenied):
    code = "filing_not_allowed"


class FilingConflict(Conflict):
    code = "filing_conflict"


class UnknownFiling(NotFound):
    code = "unknown_filing"


@dataclass(frozen=True, slots=True)
class Filing:
    """One 备案 as other features see it (cross-region settlement asks `covering_filing`)."""

    id: int
    person_id: int
    kind: FilingKind
    insured_admdvs: str
    treatment_admdvs: str
    treatment_name: str
    begins: date
    ends: date | None  # None: open-ended (a long-term 备案)
    state: FilingState
    channel: Channel
    document_kind: DocumentKind | None
    document_note: str
    referral_medins_code: str | None
    replaces_id: int | None
    serial: str  # 待遇申报明细流水号 (trt_dcla_detl_sn) answered to institutions

    @property
    def long_term(self) -> bool:
        return is_long_term(self.kind)

    def covers(self, treatment_admdvs: str, on: date) -> bool:
        return (
            self.state is FilingState.ACTIVE
            and covers_region(self.treatment_admdvs, treatment_admdvs)
            and self.begins <= on
            and (self.ends is None or on <= self.ends)
        )

    def shown_state(self, today: date) -> ShownState:
        if self.state is FilingState.CANCELLED:
            return ShownState.CANCELLED
        if self.state is FilingState.CHANGED:
            return ShownState.CHANGED
        if self.ends is not None and self.ends < today:
            return ShownState.EXPIRED
        if self.begins > today:
            return ShownState.NOT_YET
        return ShownState.ACTIVE


@dataclass(frozen=True, slots=True)
class RegionFilingRules:
    """What an insured region allows (per-region settings; these are the defaults)."""

    allowed_kinds: frozenset[FilingKind] = frozenset(FilingKind)
    change_after_months: int = 6
    temporary_months: int = NATIONAL_MIN_TEMPORARY_MONTHS
    emergency_backdate_days: int = 30

    def __post_init__(self) -> None:
        if not 0 <= self.change_after_months <= 60:
            raise InvalidFiling("change_after_months 应为 0 到 60 之间的整数")
        if not NATIONAL_MIN_TEMPORARY_MONTHS <= self.temporary_months <= 24:
            raise InvalidFiling("temporary_months 应为 6 到 24 之间的整数（临时备案至少六个月）")
        if not 0 <= self.emergency_backdate_days <= 365:
            raise InvalidFiling("emergency_backdate_days 应为 0 到 365 之间的整数")


def parse_kind(raw: str, where: str = "kind") -> FilingKind:
    value = raw.strip()
    for kind, name in KIND_NAMES.items():
        if value in (kind.value, name):
            return kind
    raise InvalidFiling(f"{where} 应为备案类型之一：{'、'.join(KIND_NAMES.values())}")


def check_admdvs(raw: str, where: str = "treatment_admdvs") -> str:
    value = raw.strip()
    if not _ADMDVS.fullmatch(value):
        raise InvalidFiling(f"{where} 应为6位医保区划代码")
    return value


def covers_region(filed: str, treatment: str) -> bool:
    """A 备案 to a province (XX0000) covers its regions; to a prefecture (XXXX00) its counties."""
    if filed == treatment:
        return True
    if filed.endswith("0000"):
        return filed[:2] == treatment[:2]
    if filed.endswith("00"):
        return filed[:4] == treatment[:4]
    return False


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def temporary_end(begins: date, rules: RegionFilingRules) -> date:
    """The last day of a temporary 备案: `temporary_months` after the first, less one day."""
    return add_months(begins, rules.temporary_months) - timedelta(days=1)


def check_new_filing(
    *,
    kind: FilingKind,
    insured_admdvs: str,
    treatment_admdvs: str,
    begins: date,
    today: date,
    retired: bool,
    rules: RegionFilingRules,
    document_kind: DocumentKind | None,
    referral_medins_code: str | None,
) -> date | None:
    """Refuses what the rules forbid; answers the 备案's last day (None: open-ended)."""
    if kind not in rules.allowed_kinds:
        raise FilingNotAllowed(f"参保地不受理「{KIND_NAMES[kind]}」备案")
    if kind is FilingKind.RETIREE_RESETTLED and not retired:
        raise FilingNotAllowed("异地安置退休备案仅限退休人员办理")
    if covers_region(treatment_admdvs, insured_admdvs) or covers_region(
        insured_admdvs, treatment_admdvs
    ):
        raise InvalidFiling("treatment_admdvs 就医地应在参保地之外")
    earliest = today
    if kind is FilingKind.EMERGENCY:
        earliest = today - timedelta(days=rules.emergency_backdate_days)
    if begins < earliest:
        if kind is FilingKind.EMERGENCY:
            raise InvalidFiling(
                f"begins 异地急诊抢救备案的开始日期最早为 {earliest.isoformat()}"
                f"（可补办 {rules.emergency_backdate_days} 天内的）"
            )
        raise InvalidFiling("begins 开始日期不能早于今天")
    if begins > today + timedelta(days=366):
        raise InvalidFiling("begins 开始日期不能晚于一年以后")
    referral_given = document_kind is DocumentKind.REFERRAL and referral_medins_code
    if kind is FilingKind.REFERRAL and not referral_given:
        raise InvalidFiling("referral 异地转诊备案需要转出医院的转诊单（转出医院编码）")
    proof = (DocumentKind.UPLOAD, DocumentKind.DECLARATION)
    if is_long_term(kind) and document_kind not in proof:
        raise InvalidFiling("document 异地长期居住类备案需要上传居住或工作证明，或填写个人承诺")
    return None if is_long_term(kind) else temporary_end(begins, rules)


def overlaps(a_begins: date, a_ends: date | None, b_begins: date, b_ends: date | None) -> bool:
    return (a_ends is None or b_begins <= a_ends) and (b_ends is None or a_begins <= b_ends)


def check_no_conflict(
    *,
    kind: FilingKind,
    treatment_admdvs: str,
    begins: date,
    ends: date | None,
    existing: list[Filing],
    today: date,
    replacing: int | None = None,
) -> None:
    for other in existing:
        if other.id == replacing or other.state is not FilingState.ACTIVE:
            continue
        if other.ends is not None and other.ends < today:
            continue
        if is_long_term(kind) and other.long_term:
            raise FilingConflict(
                f"已有一份生效的{KIND_NAMES[other.kind]}备案（{other.treatment_name}），"
                "请办理变更而不是重复备案"
            )
        same_region = covers_region(other.treatment_admdvs, treatment_admdvs) or covers_region(
            treatment_admdvs, other.treatment_admdvs
        )
        if same_region and overlaps(other.begins, other.ends, begins, ends):
            raise FilingConflict(
                f"同一就医地已有一份生效的{KIND_NAMES[other.kind]}备案（{other.treatment_name}）"
            )


def check_may_end(filing: Filing, today: date, rules: RegionFilingRules, verb: str) -> None:
    """Whether a 备案 may be cancelled or changed today (`verb`: 撤销 or 变更)."""
    if filing.state is not FilingState.ACTIVE:
        raise FilingConflict(f"该备案{STATE_NAMES[filing.shown_state(today)]}，不能{verb}")
    if filing.ends is not None and filing.ends < today:
        raise FilingConflict(f"该备案已到期，不能{verb}")
    if filing.long_term and filing.begins <= today:
        earliest = add_months(filing.begins, rules.change_after_months)
        if today < earliest:
            raise FilingNotAllowed(
                f"长期备案满 {rules.change_after_months} 个月后才能{verb}，"
                f"最早 {earliest.isoformat()}"
            )


def check_text(raw: str, where: str, limit: int, *, required: bool = True) -> str:
    value = " ".join(raw.split())
    if required and not value:
        raise InvalidFiling(f"{where} 不能为空")
    if len(value) > limit:
        raise InvalidFiling(f"{where} 不能超过 {limit} 个字")
    return value
