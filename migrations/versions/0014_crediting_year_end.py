"""crediting: the year end (年度结转): regions' interest rates, year-end runs and their totals

Revision ID: 0014_crediting_year_end
Revises: 0013_crediting
Create Date: 2026-12-07 23:40:00

A region's yearly interest rate on personal accounts (crediting_interest_rates; no row: none),
the year-end run as a durable job with its cursor and the rates it opened with
(crediting_year_ends; one open at a time through the UNIQUE open_slot, four eyes by CHECK), and
its totals per region (crediting_year_end_totals).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import yibao.db.types

revision: str = "0014_crediting_year_end"
down_revision: str | Sequence[str] | None = "0013_crediting"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _at(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, yibao.db.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "crediting_interest_rates",
        sa.Column("admdvs", sa.String(length=6), nullable=False),
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        _at("updated_at"),
        sa.CheckConstraint(
            "rate_bp > 0 AND rate_bp <= 10000", name=op.f("ck_crediting_interest_rates_rate_bp")
        ),
        sa.PrimaryKeyConstraint("admdvs", name=op.f("pk_crediting_interest_rates")),
    )
    op.create_table(
        "crediting_year_ends",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("open_slot", sa.Integer(), nullable=True),
        sa.Column("rates", sa.Text(), nullable=False),
        sa.Column("account_cursor", sa.BigInteger(), nullable=False),
        sa.Column("accounts_done", sa.BigInteger(), nullable=False),
        sa.Column("credited_count", sa.BigInteger(), nullable=False),
        sa.Column("credited_fen", sa.BigInteger(), nullable=False),
        sa.Column("already_count", sa.BigInteger(), nullable=False),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        _at("created_at"),
        _at("updated_at"),
        _at("finished_at", nullable=True),
        sa.CheckConstraint(
            "state IN ('proposed', 'crediting', 'done', 'rejected')",
            name=op.f("ck_crediting_year_ends_state"),
        ),
        sa.CheckConstraint(
            "open_slot IS NULL OR open_slot = 1", name=op.f("ck_crediting_year_ends_open_slot")
        ),
        sa.CheckConstraint(
            "approved_by IS NULL OR approved_by <> proposed_by",
            name=op.f("ck_crediting_year_ends_four_eyes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crediting_year_ends")),
        sa.UniqueConstraint("open_slot", name=op.f("uq_crediting_year_ends_open_slot")),
    )
    op.create_table(
        "crediting_year_end_totals",
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("admdvs", sa.String(length=6), nullable=False),
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        sa.Column("accounts", sa.BigInteger(), nullable=False),
        sa.Column("credited_count", sa.BigInteger(), nullable=False),
        sa.Column("credited_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["crediting_year_ends.id"],
            name=op.f("fk_crediting_year_end_totals_run_id_crediting_year_ends"),
        ),
        sa.PrimaryKeyConstraint("run_id", "admdvs", name=op.f("pk_crediting_year_end_totals")),
    )


def downgrade() -> None:
    op.drop_table("crediting_year_end_totals")
    op.drop_table("crediting_year_ends")
    op.drop_table("crediting_interest_rates")
