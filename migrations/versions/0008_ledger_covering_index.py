"""ledger: the account history index covers kind and amount

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 12:00:00

Every view of the overview sums a year of one account's entries by kind, and every page of 消费记录
counts all of its consumption entries (the "filters hide N records" hint). With only
(account_id, created_at, id) in the index, each entry cost a heap page: a person's entries are
written months apart, so about a hundred random reads a view once the ledger outgrows memory
(1,000,000 persons: 28 GB). With kind and amount_fen in the index (INCLUDE, not in the key) those
reads are index-only scans on the pages the autovacuum has marked all-visible.

SQLite has no INCLUDE; its index stays as 0001 made it.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_ledger_entries_account_created"
KEY = ["account_id", "created_at", "id"]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index(NAME, table_name="ledger_entries")
    op.create_index(NAME, "ledger_entries", KEY, postgresql_include=["kind", "amount_fen"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index(NAME, table_name="ledger_entries")
    op.create_index(NAME, "ledger_entries", KEY)
