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

from yibao.family.domain.eligibility import (
    SCOPE_NAMES,
    AuthoriserFacts,
    BeneficiaryFacts,
    Eligibility,
    NotEligible,
    Refusal,
    RegionPolicy,
    age_on,
    check_authoriser,
    check_beneficiary,
    check_eligibility,
    needs_consent,
    place_allowed,
)
from yibao.family.domain.terms import (
    ACTION_NAMES,
    ADULT_AGE,
    APPEAL_TEXT,
    AUTHORISATION_NOT_FOUND,
    CLOSE_RELATIONS,
    DOCUMENT_KIND_NAMES,
    FINAL_STATUSES,
    LIVE_STATUSES,
    NEAR_RELATIONS,
    PAYER_RANK,
    RELATION_NAMES,
    STATUS_NAMES,
    AlreadyApplied,
    Channel,
    ContributionAlreadyPaid,
    DocumentKind,
    DocumentsMissing,
    InvalidDocument,
    InvalidQuota,
    NotYourAuthorisation,
    QuotaExceeded,
    ReasonRequired,
    Relation,
    ReviewerIsApplicant,
    SecondApproverRequired,
    Status,
    StatusChangeRefused,
    UnknownApplication,
    UnknownAuthorisation,
    check_quota,
    move,
    quota_remaining,
    require_reason,
)

__all__ = [
    "ACTION_NAMES",
    "ADULT_AGE",
    "APPEAL_TEXT",
    "AUTHORISATION_NOT_FOUND",
    "CLOSE_RELATIONS",
    "DOCUMENT_KIND_NAMES",
    "FINAL_STATUSES",
    "LIVE_STATUSES",
    "NEAR_RELATIONS",
    "PAYER_RANK",
    "RELATION_NAMES",
    "SCOPE_NAMES",
    "STATUS_NAMES",
    "AlreadyApplied",
    "AuthoriserFacts",
    "BeneficiaryFacts",
    "Channel",
    "ContributionAlreadyPaid",
    "DocumentKind",
    "DocumentsMissing",
    "Eligibility",
    "InvalidDocument",
    "InvalidQuota",
    "NotEligible",
    "NotYourAuthorisation",
    "QuotaExceeded",
    "ReasonRequired",
    "Refusal",
    "RegionPolicy",
    "Relation",
    "ReviewerIsApplicant",
    "SecondApproverRequired",
    "Status",
    "StatusChangeRefused",
    "UnknownApplication",
    "UnknownAuthorisation",
    "age_on",
    "check_authoriser",
    "check_beneficiary",
    "check_eligibility",
    "check_quota",
    "move",
    "needs_consent",
    "place_allowed",
    "quota_remaining",
    "require_reason",
]
