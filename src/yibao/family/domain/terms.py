"""Names, states, errors and quota arithmetic of 家庭共济 (see the package docstring)."""

from __future__ import annotations

from enum import StrEnum

from yibao.kernel.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied

ADULT_AGE = 18


class Relation(StrEnum):
    """What the beneficiary is to the authoriser."""

    SPOUSE = "spouse"
    PARENT = "parent"
    CHILD = "child"
    SIBLING = "sibling"
    GRANDPARENT = "grandparent"
    GRANDCHILD = "grandchild"
    # 其他亲属 (堂表兄弟姐妹, 朋友…): never allowed; offered so the refusal can say why.
    OTHER = "other"


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

# What each step of an authorisation's history is called on the pages.
ACTION_NAMES = {
    "applied": "填写申请",
    "submitted": "提交申请",
    "consented": "亲属已同意",
    "declined": "亲属未同意",
    "approved": "审核通过，已生效",
    "rejected": "审核未通过",
    "quota_changed": "调整额度",
    "paused": "暂停",
    "resumed": "恢复",
    "revoked": "撤销",
    "ended": "终止",
    "relation_corrected": "更正亲属关系",
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


AUTHORISATION_NOT_FOUND = "找不到该共济授权"


class UnknownAuthorisation(NotFound):
    code = "unknown_authorisation"


class UnknownApplication(NotFound):
    code = "unknown_application"


class StatusChangeRefused(Conflict):
    code = "mutual_aid_status_change_refused"


# 资格查询 answers about another person's record: a few a day are plenty for a family.
ELIGIBILITY_CHECKS_PER_DAY = 10


class EligibilityChecksUsedUp(DomainError):
    code = "rate_limited"


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


class AlreadyApplied(Conflict):
    code = "mutual_aid_already_applied"


class ContributionAlreadyPaid(Conflict):
    code = "contribution_already_paid"


class QuotaExceeded(Conflict):
    code = "mutual_aid_quota_exceeded"


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


# ---- misuse ---------------------------------------------------------------------------------

APPEAL_TEXT = (
    "如有异议，可自通知之日起60日内携身份证到参保地医保经办机构申诉，或拨打医保服务热线12393"
)
