"""ledger: one reversal per entry through a partial unique index

Revision ID: 0007
Revises: 0001
Create Date: 2026-11-25 11:55:00

The UNIQUE constraint on `ledger_entries.reverses_entry_id` indexed one NULL for every entry that
reverses nothing (nearly all of them): at 90 M entries about 1.9 GB, maintained on every insert,
and the slowest index to rebuild after a bulk load (docs/benchmarks-notes.md). A partial unique
index keeps the same guarantee over the few reversals only.

On SQLite the table-level UNIQUE from 0001 stays: dropping it means rebuilding the append-only
table (and its triggers), for a cost that only PostgreSQL's load and insert rate ever felt.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "uq_ledger_entries_reverses_entry_id"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_constraint(NAME, "ledger_entries", type_="unique")
    op.create_index(
        NAME,
        "ledger_entries",
        ["reverses_entry_id"],
        unique=True,
        postgresql_where="reverses_entry_id IS NOT NULL",
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index(NAME, table_name="ledger_entries")
    op.create_unique_constraint(NAME, "ledger_entries", ["reverses_entry_id"])
