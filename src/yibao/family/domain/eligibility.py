"""The eligibility check: every failed condition, each with what to do about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from yibao.family.domain.terms import (
    ADULT_AGE,
    NEAR_RELATIONS,
    PAYER_RANK,
    RELATION_NAMES,
    Relation,
)
from yibao.kernel.errors import InvalidInput


class NotEligible(InvalidInput):
    code = "mutual_aid_not_eligible"

    def __init__(self, message: str, refusals: list[Refusal]) -> None:
        super().__init__(message, refusals=[r.as_dict() for r in refusals])
        self.refusals = refusals


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


# Refusals that would tell the applicant about the relative's own record: whether an ID number is
# insured, whether a name matches it, the enrolment's status and region, the birth date on file.
# Anyone can type a name and an ID number, so online these collapse into one generic refusal
# (staff at the counter, with the person in front of them, still see each reason).
RELATIVE_RECORD_REFUSALS = frozenset(
    {
        "beneficiary_not_insured",
        "beneficiary_enrolment_not_normal",
        "beneficiary_out_of_scope",
        "beneficiary_name_mismatch",
        "relation_age_mismatch",
    }
)


def relative_not_eligible(subject: str) -> Refusal:
    return Refusal(
        "relative_not_eligible",
        subject,
        f"{subject}暂不能添加为共济亲属",
        "请核对亲属的姓名、身份证号码和关系；仍有疑问请咨询12393或到医保经办窗口办理",
    )


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

    def as_told_to_applicant(self) -> Eligibility:
        """What the person who applies online is told: their own conditions and the relation
        they chose in full, but of the relative's record only "cannot be added" (see
        RELATIVE_RECORD_REFUSALS)."""
        told: list[Refusal] = []
        hidden: set[str] = set()
        for refusal in self.refusals:
            if refusal.code not in RELATIVE_RECORD_REFUSALS:
                told.append(refusal)
            elif refusal.subject not in hidden:
                hidden.add(refusal.subject)
                told.append(relative_not_eligible(refusal.subject))
        return Eligibility(told)

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
