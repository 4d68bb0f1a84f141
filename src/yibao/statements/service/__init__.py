"""Statements' use cases: `reads` (the person's own account, read-only, nothing commits) and
`counter` (the workbench prints a person's statement, recording the read on the audit trail)."""

from yibao.statements.service.contributions import ContributionHistory, contribution_history
from yibao.statements.service.counter import statement_for_staff
from yibao.statements.service.reads import (
    ConsumptionDetail,
    ConsumptionPage,
    ConsumptionRecord,
    Overview,
    UnknownSettlement,
    account_overview,
    all_consumption,
    caller_account_overview,
    caller_consumption_page,
    consumption_detail,
    consumption_page,
    statement,
)

__all__ = [
    "ConsumptionDetail",
    "ConsumptionPage",
    "ConsumptionRecord",
    "ContributionHistory",
    "Overview",
    "UnknownSettlement",
    "account_overview",
    "all_consumption",
    "caller_account_overview",
    "caller_consumption_page",
    "consumption_detail",
    "consumption_page",
    "contribution_history",
    "statement",
    "statement_for_staff",
]
