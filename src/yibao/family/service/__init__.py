"""Use cases of 家庭共济. Each commits once at its end (rule 3)."""

from yibao.family.service.applications import (
    Started,
    check,
    consent,
    review,
    start_application,
    submit_application,
)
from yibao.family.service.authorisations import (
    Correction,
    change_quota,
    correct_relation,
    end_when_enrolment_ended,
    pause,
    resume,
    revoke,
)
from yibao.family.service.common import Relative, Staff
from yibao.family.service.contributions import Receipt, pay_relative_contribution
from yibao.family.service.documents import attach_document, document_store
from yibao.family.service.eligibility import check_online
from yibao.family.service.misuse import approve_unfreeze, freeze_for_misuse, request_unfreeze
from yibao.family.service.views import (
    CaseFile,
    Line,
    aid_paid_by,
    aid_received,
    application_lines,
    case_file,
    contribution_receipt,
    document_content,
    family_page,
    find_insured,
    open_application,
    open_case,
    open_document,
    open_freezes,
    review_queue,
    supporters,
)

__all__ = [
    "CaseFile",
    "Correction",
    "Line",
    "Receipt",
    "Relative",
    "Staff",
    "Started",
    "aid_paid_by",
    "aid_received",
    "application_lines",
    "approve_unfreeze",
    "attach_document",
    "case_file",
    "change_quota",
    "check",
    "check_online",
    "consent",
    "contribution_receipt",
    "correct_relation",
    "document_content",
    "document_store",
    "end_when_enrolment_ended",
    "family_page",
    "find_insured",
    "freeze_for_misuse",
    "open_application",
    "open_case",
    "open_document",
    "open_freezes",
    "pause",
    "pay_relative_contribution",
    "request_unfreeze",
    "resume",
    "review",
    "review_queue",
    "revoke",
    "start_application",
    "submit_application",
    "supporters",
]
