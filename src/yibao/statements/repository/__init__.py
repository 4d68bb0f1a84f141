"""Queries behind the person's pages. Read only: never writes, never commits.

Every query is keyed by one account (or one person), so it stays on the
`ix_ledger_entries_account_created` index and never scans across people. `pages` holds the
statements every page view runs, as hand-written SQL on the driver (db/direct/); `ledger_reads`
the rest, through SQLAlchemy.
"""

from yibao.statements.repository.ledger_reads import (
    person_names,
    settlement_by_setl_id,
    settlement_items_of,
    settlement_of_person,
    settlement_shares_of,
    settlements_by_setl_id,
)
from yibao.statements.repository.overview import OverviewRow, overview, overview_for_caller
from yibao.statements.repository.pages import (
    ConsumptionRows,
    EntryDetail,
    consumption_page,
    consumption_page_for_caller,
    consumption_page_sql,
    entries_for_source,
)

__all__ = [
    "ConsumptionRows",
    "EntryDetail",
    "OverviewRow",
    "consumption_page",
    "consumption_page_for_caller",
    "consumption_page_sql",
    "entries_for_source",
    "overview",
    "overview_for_caller",
    "person_names",
    "settlement_by_setl_id",
    "settlement_items_of",
    "settlement_of_person",
    "settlement_shares_of",
    "settlements_by_setl_id",
]
