"""Use cases of crediting runs: start (or propose and approve), carry out, report."""

from yibao.crediting.service.executing import CREDIT_BATCH, LOAD_BATCH, execute
from yibao.crediting.service.report import RefusedLine, refused_report, run_totals
from yibao.crediting.service.runs import (
    APPROVE_ROLES,
    PROPOSE_ROLES,
    CreditingRoleRequired,
    SelfApproval,
    approve_proposed_run,
    approve_run,
    current_month,
    find_run,
    open_run,
    propose_run,
    recent_runs,
    reject_proposed_run,
    reject_run,
    report_for_staff,
    start_run,
)

__all__ = [
    "APPROVE_ROLES",
    "CREDIT_BATCH",
    "LOAD_BATCH",
    "PROPOSE_ROLES",
    "CreditingRoleRequired",
    "RefusedLine",
    "SelfApproval",
    "approve_proposed_run",
    "approve_run",
    "current_month",
    "execute",
    "find_run",
    "open_run",
    "propose_run",
    "recent_runs",
    "refused_report",
    "reject_proposed_run",
    "reject_run",
    "report_for_staff",
    "run_totals",
    "start_run",
]
