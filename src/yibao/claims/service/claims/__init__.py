"""Claim use cases: submit (idempotent), withdraw, resubmit; review, approve, reject, pay.

Split by who acts (rule 9): `person` (the claimant's use cases) and `review` (staff's), over
`steps` (报销进度 and its notices) and `documents` (the files a claim carries).
"""

from yibao.claims.service.claims.documents import Upload
from yibao.claims.service.claims.person import resubmit_claim, submit_claim, withdraw_claim
from yibao.claims.service.claims.review import (
    approve_claim,
    mark_paid,
    policy_for,
    reject_claim,
    start_review,
)

__all__ = [
    "Upload",
    "approve_claim",
    "mark_paid",
    "policy_for",
    "reject_claim",
    "resubmit_claim",
    "start_review",
    "submit_claim",
    "withdraw_claim",
]
