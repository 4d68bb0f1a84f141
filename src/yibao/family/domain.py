"""Rules of 家庭共济 (mutual aid of the employee personal account).

- The authoriser (授权人) holds employee insurance (310) with normal enrolment and a personal account
  that is not frozen. Only they can open, limit, pause or revoke an authorisation.
- A beneficiary (共济人) is the authoriser's spouse, parent or child everywhere; siblings,
  grandparents and grandchildren (近亲属) only where the authoriser's region allows it. Anyone else
  (a cousin, a friend) is refused. The beneficiary is enrolled in basic insurance (310 or 390) with
  normal status, and lives (is insured) in a place the authoriser's region allows: the same region,
  the same province, or anywhere.
- Every refusal names the condition and what to do about it; the check reports all of them at once.
- An authorisation goes applied → pending consent (an adult beneficiary with a yibao account must
  consent on their own phone: PIPL's separate consent) → under review → active, and from there to
  paused (and back), revoked, ended (either side's enrolment ended) or, at review, rejected.
- The quota (共济额度) is an optional yearly cap in fen, counted per calendar year in Beijing time
  over what the authoriser's account paid for that beneficiary (settlements and contributions,
  less reversals). It is never exceeded: the payer row is locked while the remainder is computed.
- Payers of one beneficiary are drawn in a stated order: spouse, then parent, child, then near
  relatives, and among equals the authorisation activated first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from yibao.kernel.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from yibao.kernel.money import format_yuan

ADULT_AGE = 18


class Relation(StrEnum):
    """What the beneficiary is to the authoriser."""

    SPOUSE = "spouse"
    PARENT = "parent"
    CHILD = "child"
    SIBLING = "sibling"
    GRANDPARENT = "grandparent"
    GRANDCHILD = "grandchild"
    OTHER = (
        "other"  # 其他亲属 (堂表兄弟姐妹, 朋友…): never allowed; offered so the refusal can say why
    )


RELATION_NAMES = {
    Relation.SPOUSE: "配偶",
    Relation.PARENT: "父母",
    Relation.CHILD: "子女",
    Relation.SIBLING: "兄弟姐妹",
    Relation.GRANDPARENT: "祖父母、外祖父母",
    Relation.GRANDCHILD: "孙子女、外孙子女",
    Relation.OTHER: "其他亲属（如堂表兄弟姐妹）",
}

CLOSE_RELATIONS = frozenset({Relation.SPOUSE, Relation.PARENT, Relation.CHILD})
NEAR_RELATIONS = frozenset({Relation.SIBLING, Relation.GRANDPARENT, Relation.GRANDCHILD})

# The stated order in which authorisers pay for one beneficiary.
PAYER_RANK = {
    Relation.SPOUSE: 0,
    Relation.CHILD: 1,  # the beneficiary is the payer's child: the payer is a parent
    Relation.PARENT: 2,
    Relation.GRANDCHILD: 3,
    Relation.SIBLING: 4,
    Relation.GRANDPARENT: 5,
}


class Status(StrEnum):
    APPLIED = "applied"
    PENDING_CONSENT = "pending_consent"
    UNDER_REVIEW = "under_review"
    ACTIVE = "active"
    PAUSED = "paused"
    REVOKED = "revoked"
    ENDED = "ended"
    REJECTED = "rejected"


STATUS_NAMES = {
    Status.APPLIED: "已填写",
    Status.PENDING_CONSENT: "待亲属确认",
    Status.UNDER_REVIEW: "审核中",
    Status.ACTIVE: "已生效",
    Status.PAUSED: "已暂停",
    Status.REVOKED: "已撤销",
    Status.ENDED: "已终止",
    Status.REJECTED: "未通过",
}

LIVE_STATUSES = frozenset(
    {Status.APPLIED, Status.PENDING_CONSENT, Status.UNDER_REVIEW, Status.ACTIVE, Status.PAUSED}
)
FINAL_STATUSES = frozenset({Status.REVOKED, Status.ENDED, Status.REJECTED})

_MOVES: dict[Status, frozenset[Status]] = {
    Status.APPLIED: frozenset({Status.PENDING_CONSENT, Status.UNDER_REVIEW, Status.REVOKED}),
    Status.PENDING_CONSENT: frozenset({Status.UNDER_REVIEW, Status.REJECTED, Status.REVOKED}),
    Status.UNDER_REVIEW: frozenset({Status.ACTIVE, Status.REJECTED, Status.REVOKED, Status.ENDED}),
    Status.ACTIVE: frozenset({Status.PAUSED, Status.REVOKED, Status.ENDED, Status.UNDER_REVIEW}),
    Status.PAUSED: frozenset({Status.ACTIVE, Status.REVOKED, Status.ENDED, Status.UNDER_REVIEW}),
}


class DocumentKind(StrEnum):
    ID_PHOTO = "id_photo"  # 身份证或社保卡照片
    RELATION_PROOF = "relation_proof"  # 户口簿、结婚证、出生医学证明


DOCUMENT_KIND_NAMES = {
    DocumentKind.ID_PHOTO: "身份证或社保卡照片",
    DocumentKind.RELATION_PROOF: "亲属关系证明（户口簿、结婚证或出生证明）",
}


class Channel(StrEnum):
    ONLINE = "online"
    COUNTER = "counter"


# ---- errors ---------------------------------------------------------------------------------


class NotEligible(InvalidInput):
    code = "mutual_aid_not_eligible"

    def __init__(self, message: str, refusals: list[Refusal]) -> None:
        super().__init__(message, refusals=[r.as_dict() for r in refusals])
        self.refusals = refusals


class UnknownAuthorisation(NotFound):
    code = "unknown_authorisation"


class UnknownApplication(NotFound):
    code = "unknown_application"


class StatusChangeRefused(Conflict):
    code = "mutual_aid_status_change_refused"


class NotYourAuthorisation(PermissionDenied):
    code = "not_your_authorisation"


class ReviewerIsApplicant(PermissionDenied):
    code = "reviewer_is_applicant"


class SecondApproverRequired(PermissionDenied):
    code = "second_approver_required"


class InvalidQuota(InvalidInput):
    code = "invalid_quota"


class InvalidDocument(InvalidInput):
    code = "invalid_document"


class DocumentsMissing(InvalidInput):
    code = "documents_missing"


class ReasonRequired(InvalidInput):
    code = "reason_required"


class ContributionAlreadyPaid(Conflict):
    code = "contribution_already_paid"


class QuotaExceeded(Conflict):
    code = "mutual_aid_quota_exceeded"


# ---- eligibility ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Refusal:
    code: str
    subject: str  # "authoriser" or the beneficiary's masked name
    message: str
    remedy: str

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "subject": self.subject,
            "message": self.message,
            "remedy": self.remedy,
        }


@dataclass(frozen=True, slots=True)
class AuthoriserFacts:
    person_id: int
    birth_date: date
    admdvs: str | None  # the 310 enrolment's region, None without one
    insutype: str | None
    enrolment_status: str | None
    has_account: bool
    account_frozen: bool


@dataclass(frozen=True, slots=True)
class BeneficiaryFacts:
    label: str  # how the refusal names them (masked name)
    relation: str
    person_id: int | None  # None: no insured person with that ID number
    name_matches: bool
    birth_date: date | None
    enrolments: tuple[tuple[str, str, str], ...] = ()  # (insutype, status, admdvs)
    already_linked: bool = False


@dataclass(frozen=True, slots=True)
class RegionPolicy:
    admdvs: str
    name: str
    near_relatives_allowed: bool
    scope: str  # region | province | nationwide


@dataclass
class Eligibility:
    refusals: list[Refusal] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return not self.refusals

    def raise_if_refused(self) -> None:
        if self.refusals:
            first = self.refusals[0]
            more = f"（另有 {len(self.refusals) - 1} 项不符合）" if len(self.refusals) > 1 else ""
            raise NotEligible(f"{first.message}{more}", self.refusals)


def _province(admdvs: str) -> str:
    return admdvs[:2]


def place_allowed(scope: str, authoriser_admdvs: str, beneficiary_admdvs: str) -> bool:
    if scope == "nationwide":
        return True
    if scope == "province":
        return _province(authoriser_admdvs) == _province(beneficiary_admdvs)
    return authoriser_admdvs == beneficiary_admdvs


SCOPE_NAMES = {"region": "本统筹区", "province": "本省（自治区、直辖市）", "nationwide": "全国"}


def check_authoriser(facts: AuthoriserFacts) -> list[Refusal]:
    who = "授权人"
    if facts.insutype != "310":
        return [
            Refusal(
                "authoriser_not_employee",
                who,
                "您未参加职工基本医疗保险，只有职工医保参保人的个人账户可以家庭共济",
                "参加职工医保后再申请；居民医保没有个人账户",
            )
        ]
    out: list[Refusal] = []
    if facts.enrolment_status != "1":
        out.append(
            Refusal(
                "authoriser_enrolment_not_normal",
                who,
                "您的职工医保不是正常参保缴费状态",
                "请单位为您恢复正常缴费，或到医保经办机构办理续保后再申请",
            )
        )
    if not facts.has_account:
        out.append(
            Refusal(
                "authoriser_no_account",
                who,
                "您没有职工医保个人账户",
                "请联系医保经办机构核实个人账户",
            )
        )
    elif facts.account_frozen:
        out.append(
            Refusal(
                "authoriser_account_frozen",
                who,
                "您的个人账户已冻结，冻结期间不能共济",
                "请到医保经办机构申诉或办理解冻后再申请",
            )
        )
    return out


def _allowed_relations_text(policy: RegionPolicy) -> str:
    base = "配偶、父母、子女"
    if policy.near_relatives_allowed:
        return base + "，以及兄弟姐妹、祖父母、外祖父母、孙子女、外孙子女"
    return base


def check_beneficiary(
    authoriser: AuthoriserFacts, b: BeneficiaryFacts, policy: RegionPolicy, today: date
) -> list[Refusal]:
    who = b.label
    out: list[Refusal] = []
    try:
        relation = Relation(b.relation)
    except ValueError:
        relation = Relation.OTHER
    if relation == Relation.OTHER:
        out.append(
            Refusal(
                "relation_not_allowed",
                who,
                f"{who}不在家庭共济范围内：堂表兄弟姐妹等其他亲属不能共济",
                f"{policy.name}可共济的亲属为{_allowed_relations_text(policy)}",
            )
        )
    elif relation in NEAR_RELATIONS and not policy.near_relatives_allowed:
        out.append(
            Refusal(
                "near_relative_not_allowed_here",
                who,
                f"{policy.name}暂不允许为{RELATION_NAMES[relation]}共济",
                f"{policy.name}可共济的亲属为{_allowed_relations_text(policy)}",
            )
        )
    if b.person_id is None:
        out.append(
            Refusal(
                "beneficiary_not_insured",
                who,
                f"查不到{who}的参保记录（请核对身份证号码）",
                "亲属需先参加职工医保或城乡居民医保；已参保的请核对身份证号码",
            )
        )
        return out
    if b.person_id == authoriser.person_id:
        out.append(Refusal("beneficiary_is_self", who, "不能为自己办理共济", "请填写亲属的信息"))
        return out
    if not b.name_matches:
        out.append(
            Refusal(
                "beneficiary_name_mismatch",
                who,
                "姓名与身份证号码不一致",
                "请按亲属身份证上的姓名填写",
            )
        )
    basic = [e for e in b.enrolments if e[0] in {"310", "390"}]
    normal = [e for e in basic if e[1] == "1"]
    if not basic:
        out.append(
            Refusal(
                "beneficiary_not_insured",
                who,
                f"{who}未参加基本医疗保险",
                "请亲属先参加职工医保或城乡居民医保",
            )
        )
    elif not normal:
        out.append(
            Refusal(
                "beneficiary_enrolment_not_normal",
                who,
                f"{who}的基本医疗保险不是正常参保缴费状态",
                "请亲属先缴清本年度医保费用、恢复正常参保",
            )
        )
    home = authoriser.admdvs
    if (
        normal
        and home is not None
        and not any(place_allowed(policy.scope, home, e[2]) for e in normal)
    ):
        out.append(
            Refusal(
                "beneficiary_out_of_scope",
                who,
                f"{who}的参保地不在{policy.name}允许的共济范围（{SCOPE_NAMES.get(policy.scope, policy.scope)}）内",
                "共济双方参保地需符合本地规定；可待本地开放跨地区共济后再申请",
            )
        )
    if b.birth_date is not None and relation in PAYER_RANK:
        mismatch = (
            relation in {Relation.PARENT, Relation.GRANDPARENT}
            and b.birth_date >= authoriser.birth_date
        ) or (
            relation in {Relation.CHILD, Relation.GRANDCHILD}
            and b.birth_date <= authoriser.birth_date
        )
        if mismatch:
            out.append(
                Refusal(
                    "relation_age_mismatch",
                    who,
                    f"{who}的出生日期与所选关系（{RELATION_NAMES[relation]}）不符",
                    "请核对所选的亲属关系和身份证号码",
                )
            )
    if b.already_linked:
        out.append(
            Refusal(
                "already_authorised",
                who,
                f"您已为{who}办理共济（或申请正在办理中）",
                "可在“家庭共济”页面查看或调整",
            )
        )
    return out


def check_eligibility(
    authoriser: AuthoriserFacts,
    beneficiaries: list[BeneficiaryFacts],
    policy: RegionPolicy | None,
    today: date,
) -> Eligibility:
    result = Eligibility(check_authoriser(authoriser))
    if policy is None:
        return result
    for b in beneficiaries:
        result.refusals.extend(check_beneficiary(authoriser, b, policy, today))
    return result


def age_on(birth: date, today: date) -> int:
    years = today.year - birth.year
    if (today.month, today.day) < (birth.month, birth.day):
        years -= 1
    return years


def needs_consent(birth: date, has_online_account: bool, today: date) -> bool:
    """PIPL: an adult who can be asked is asked; a minor's or an account-less relative's
    documents stand in for the consent (reviewers check them)."""
    return has_online_account and age_on(birth, today) >= ADULT_AGE


# ---- states ---------------------------------------------------------------------------------


def move(current: str, target: Status) -> Status:
    now = Status(current)
    if target not in _MOVES.get(now, frozenset()):
        raise StatusChangeRefused(
            f"当前状态为“{STATUS_NAMES[now]}”，不能改为“{STATUS_NAMES[target]}”"
        )
    return target


def require_reason(reason: str | None, what: str = "原因") -> str:
    text = (reason or "").strip()
    if len(text) < 2:
        raise ReasonRequired(f"请填写{what}")
    if len(text) > 500:
        raise ReasonRequired(f"{what}不超过500字")
    return text


# ---- quota ----------------------------------------------------------------------------------


def check_quota(quota_fen: int | None) -> int | None:
    if quota_fen is None:
        return None
    if quota_fen < 0:
        raise InvalidQuota("共济额度不能为负数")
    if quota_fen > 100_000_000:
        raise InvalidQuota("共济额度不超过 1000000.00 元")
    return quota_fen


def quota_remaining(quota_fen: int | None, used_fen: int) -> int | None:
    if quota_fen is None:
        return None
    return max(quota_fen - used_fen, 0)


def describe_quota(quota_fen: int | None, used_fen: int) -> str:
    if quota_fen is None:
        return f"不限额，本年已共济 {format_yuan(used_fen)} 元"
    left = quota_remaining(quota_fen, used_fen) or 0
    return f"本年额度 {format_yuan(quota_fen)} 元，已用 {format_yuan(used_fen)} 元，剩余 {format_yuan(left)} 元"


def payer_sort_key(relation: str, activated_order: tuple[object, int]) -> tuple[int, object, int]:
    rank = PAYER_RANK.get(Relation(relation), 9) if relation in Relation._value2member_map_ else 9
    return (rank, activated_order[0], activated_order[1])


def pay_within(share_fen: int, balance_fen: int, remaining_fen: int | None) -> int:
    """What one payer can pay toward a share: never beyond the balance or the quota left."""
    cap = balance_fen if remaining_fen is None else min(balance_fen, remaining_fen)
    return max(min(share_fen, cap), 0)


# ---- misuse ---------------------------------------------------------------------------------

APPEAL_TEXT = (
    "如有异议，可自通知之日起60日内携身份证到参保地医保经办机构申诉，或拨打医保服务热线12393"
)
