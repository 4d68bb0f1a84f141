"""Use cases of crediting runs: start (or propose and approve), carry out, report."""

from yibao.crediting.service.executing import CREDIT_BATCH, LOAD_BATCH, execute
from yibao.crediting.service.report import RefusedLine, refused_report, run_totals
from yibao.crediting.service.runs import (
    SelfApproval,
    approve_run,
    current_month,
    find_run,
    open_run,
    recent_runs,
    reject_run,
    start_run,
)

__all__ = [
    "CREDIT_BATCH",
    "LOAD_BATCH",
    "RefusedLine",
    "SelfApproval",
    "approve_run",
    "current_month",
    "execute",
    "find_run",
    "open_run",
    "recent_runs",
    "refused_report",
    "reject_run",
    "run_totals",
    "start_run",
]
