"""crediting: monthly crediting runs (划账) as durable jobs, their lines and totals

Revision ID: 0013_crediting
Revises: 0001
Create Date: 2026-12-07 20:00:00

A run is a job with its own state and cursor (crediting_runs; one open at a time through the
UNIQUE open_slot), the staging table its files are copied into, which keeps each line's outcome
and reason (crediting_lines; ID numbers only as keyed hash and mask), and its totals per region
and employer (crediting_totals). Builds on the foundation's persons, enrolments and ledger.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import yibao.db.types

revision: str = "0013_crediting"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crediting_runs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("region", sa.String(length=6), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("files", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("open_slot", sa.Integer(), nullable=True),
        sa.Column("file_index", sa.Integer(), nullable=False),
        sa.Column("file_offset", sa.BigInteger(), nullable=False),
        sa.Column("file_line", sa.Integer(), nullable=False),
        sa.Column("line_cursor", sa.BigInteger(), nullable=False),
        sa.Column("lines_total", sa.BigInteger(), nullable=False),
        sa.Column("lines_done", sa.BigInteger(), nullable=False),
        sa.Column("credited_count", sa.BigInteger(), nullable=False),
        sa.Column("credited_fen", sa.BigInteger(), nullable=False),
        sa.Column("unchanged_count", sa.BigInteger(), nullable=False),
        sa.Column("refused_count", sa.BigInteger(), nullable=False),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", yibao.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", yibao.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", yibao.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('proposed', 'loading', 'deduping', 'retirees', 'crediting', 'totals', 'done', 'rejected')",
            name=op.f("ck_crediting_runs_state"),
        ),
        sa.CheckConstraint(
            "approved_by IS NULL OR approved_by <> proposed_by",
            name=op.f("ck_crediting_runs_four_eyes"),
        ),
        sa.CheckConstraint(
            "open_slot IS NULL OR open_slot = 1", name=op.f("ck_crediting_runs_open_slot")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crediting_runs")),
        sa.UniqueConstraint("open_slot", name=op.f("uq_crediting_runs_open_slot")),
    )
    op.create_table(
        "crediting_lines",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("origin", sa.String(length=8), nullable=False),
        sa.Column("file_index", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("id_number_hash", sa.String(length=64), nullable=True),
        sa.Column("id_number_masked", sa.String(length=18), nullable=True),
        sa.Column("month", sa.String(length=7), nullable=True),
        sa.Column("base_fen", sa.BigInteger(), nullable=False),
        sa.Column("employer_fen", sa.BigInteger(), nullable=False),
        sa.Column("personal_fen", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=True),
        sa.Column("account_id", sa.BigInteger(), nullable=True),
        sa.Column("admdvs", sa.String(length=6), nullable=True),
        sa.Column("employer_id", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("refusal", sa.String(length=20), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("credited_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("origin IN ('file', 'retiree')", name=op.f("ck_crediting_lines_origin")),
        sa.CheckConstraint(
            "outcome <> 'refused' OR refusal IS NOT NULL",
            name=op.f("ck_crediting_lines_refusal_reason"),
        ),
        sa.CheckConstraint(
            "outcome IN ('new', 'checked', 'refused', 'credited', 'unchanged', 'arrears')",
            name=op.f("ck_crediting_lines_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["crediting_runs.id"], name=op.f("fk_crediting_lines_run_id_crediting_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crediting_lines")),
        postgresql_with={"fillfactor": 60},
    )
    op.create_index("ix_crediting_lines_run_id", "crediting_lines", ["run_id", "id"])

    op.create_table(
        "crediting_totals",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("admdvs", sa.String(length=6), nullable=True),
        sa.Column("employer_id", sa.BigInteger(), nullable=True),
        sa.Column("origin", sa.String(length=8), nullable=False),
        sa.Column("lines", sa.BigInteger(), nullable=False),
        sa.Column("credited_count", sa.BigInteger(), nullable=False),
        sa.Column("credited_fen", sa.BigInteger(), nullable=False),
        sa.Column("unchanged_count", sa.BigInteger(), nullable=False),
        sa.Column("refused_count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["crediting_runs.id"],
            name=op.f("fk_crediting_totals_run_id_crediting_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crediting_totals")),
    )
    op.create_index("ix_crediting_totals_run_id", "crediting_totals", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_crediting_totals_run_id", table_name="crediting_totals")
    op.drop_table("crediting_totals")
    op.drop_index("ix_crediting_lines_run_id", table_name="crediting_lines")
    op.drop_table("crediting_lines")
    op.drop_table("crediting_runs")
