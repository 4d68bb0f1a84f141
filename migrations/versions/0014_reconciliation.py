"""settlement: reconciliation (对账, 3201/3202), its differences and confirmed settlements

Revision ID: 0014_reconciliation
Revises: 0013_fsi_shape
Create Date: 2026-12-07 23:40:00

Each 3201/3202 of an institution is kept with what it sent, what yibao counted and the result;
a 3202 keeps the lines it found differing. A settlement a 3202 found only at yibao (its answer
lost) and a later 3202 listed is confirmed once. The index on settlements lets the period's sums
read one institution's settlements of those days only.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from yibao.db.types import UTCDateTime

revision: str = "0014_reconciliation"
down_revision: str | Sequence[str] | None = "0013_fsi_shape"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_index(
        "ix_settlements_institution_time", "settlements", ["fixmedins_code", "setl_time"]
    )
    op.create_table(
        "reconciliations",
        sa.Column("id", BIGINT, autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliations")),
        sa.Column("fixmedins_code", sa.String(12), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("msgid", sa.String(40), nullable=False),
        sa.Column("opter", sa.String(30), nullable=False),
        sa.Column("opter_name", sa.String(50), nullable=False),
        sa.Column("setl_optins", sa.String(20), nullable=False),
        sa.Column("insutype", sa.String(3), nullable=True),
        sa.Column("clr_type", sa.String(4), nullable=True),
        sa.Column("begin_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("their_cnt", sa.BigInteger(), nullable=False),
        sa.Column("their_medfee_fen", sa.BigInteger(), nullable=False),
        sa.Column("their_fund_fen", sa.BigInteger(), nullable=False),
        sa.Column("their_acct_fen", sa.BigInteger(), nullable=True),
        sa.Column("our_cnt", sa.BigInteger(), nullable=False),
        sa.Column("our_medfee_fen", sa.BigInteger(), nullable=False),
        sa.Column("our_fund_fen", sa.BigInteger(), nullable=False),
        sa.Column("our_acct_fen", sa.BigInteger(), nullable=False),
        sa.Column("result", sa.String(10), nullable=False),
        sa.Column("differences", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("file_qury_no", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('totals', 'details')", name=op.f("ck_reconciliations_kind")),
        sa.CheckConstraint(
            "result IN ('match', 'mismatch')", name=op.f("ck_reconciliations_result")
        ),
    )
    op.create_index(
        "ix_reconciliations_institution_time", "reconciliations", ["fixmedins_code", "created_at"]
    )
    op.create_table(
        "reconciliation_differences",
        sa.Column("id", BIGINT, autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_differences")),
        sa.Column("reconciliation_id", BIGINT, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("setl_id", sa.String(30), nullable=False),
        sa.Column("mdtrt_id", sa.String(30), nullable=False),
        sa.Column("psn_no", sa.String(30), nullable=False),
        sa.Column("our_medfee_fen", sa.BigInteger(), nullable=True),
        sa.Column("our_fund_fen", sa.BigInteger(), nullable=True),
        sa.Column("our_acct_fen", sa.BigInteger(), nullable=True),
        sa.Column("their_medfee_fen", sa.BigInteger(), nullable=True),
        sa.Column("their_fund_fen", sa.BigInteger(), nullable=True),
        sa.Column("their_acct_fen", sa.BigInteger(), nullable=True),
        sa.Column("memo", sa.String(300), nullable=False),
        sa.ForeignKeyConstraint(
            ["reconciliation_id"],
            ["reconciliations.id"],
            name=op.f("fk_reconciliation_differences_reconciliation_id_reconciliations"),
        ),
        sa.CheckConstraint(
            "kind IN ('yibao_only', 'institution_only', 'amounts_differ')",
            name=op.f("ck_reconciliation_differences_kind"),
        ),
    )
    op.create_index(
        op.f("ix_reconciliation_differences_reconciliation_id"),
        "reconciliation_differences",
        ["reconciliation_id"],
    )
    op.create_index(
        op.f("ix_reconciliation_differences_setl_id"), "reconciliation_differences", ["setl_id"]
    )
    op.create_table(
        "settlement_confirmations",
        sa.Column("settlement_id", BIGINT, nullable=False),
        sa.PrimaryKeyConstraint("settlement_id", name=op.f("pk_settlement_confirmations")),
        sa.Column("setl_id", sa.String(30), nullable=False),
        sa.Column("fixmedins_code", sa.String(12), nullable=False),
        sa.Column("reconciliation_id", BIGINT, nullable=False),
        sa.Column("confirmed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["settlement_id"],
            ["settlements.id"],
            name=op.f("fk_settlement_confirmations_settlement_id_settlements"),
        ),
        sa.ForeignKeyConstraint(
            ["reconciliation_id"],
            ["reconciliations.id"],
            name=op.f("fk_settlement_confirmations_reconciliation_id_reconciliations"),
        ),
        sa.UniqueConstraint("setl_id", name=op.f("uq_settlement_confirmations_setl_id")),
    )


def downgrade() -> None:
    op.drop_table("settlement_confirmations")
    op.drop_index(
        op.f("ix_reconciliation_differences_setl_id"), table_name="reconciliation_differences"
    )
    op.drop_index(
        op.f("ix_reconciliation_differences_reconciliation_id"),
        table_name="reconciliation_differences",
    )
    op.drop_table("reconciliation_differences")
    op.drop_index("ix_reconciliations_institution_time", table_name="reconciliations")
    op.drop_table("reconciliations")
    op.drop_index("ix_settlements_institution_time", table_name="settlements")
