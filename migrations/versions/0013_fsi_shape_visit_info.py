"""settlement: a visit's diagnoses (2203) and each fee line's charge batch (2205)

Revision ID: 0013_fsi_shape
Revises: 0012
Create Date: 2026-12-07 20:30:00

2203 门诊就诊信息上传 gives an open visit its main condition and disease (`visits`: three
nullable columns and the msgid of the 2203 that set them) and its diagnoses (`visit_diagnoses`,
one row each, with the msgid of the 2203 that sent them, so a 2601 of that message withdraws
exactly them). 2205 门诊费用明细信息撤销 withdraws the fee lines of one charge batch: each line
keeps the `chrg_bchno` its 2204 sent (NULL for lines written before).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_fsi_shape"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("fee_details", sa.Column("chrg_bchno", sa.String(length=30), nullable=True))
    op.add_column("visits", sa.Column("main_cond_dscr", sa.String(length=1000), nullable=True))
    op.add_column("visits", sa.Column("dise_codg", sa.String(length=30), nullable=True))
    op.add_column("visits", sa.Column("dise_name", sa.String(length=500), nullable=True))
    op.add_column("visits", sa.Column("info_msgid", sa.String(length=40), nullable=True))
    op.create_table(
        "visit_diagnoses",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("visit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("diag_type", sa.String(length=3), nullable=False),
        sa.Column("diag_srt_no", sa.Integer(), nullable=False),
        sa.Column("diag_code", sa.String(length=20), nullable=False),
        sa.Column("diag_name", sa.String(length=100), nullable=False),
        sa.Column("diag_dept", sa.String(length=50), nullable=True),
        sa.Column("dise_dor_no", sa.String(length=30), nullable=True),
        sa.Column("dise_dor_name", sa.String(length=50), nullable=True),
        sa.Column("diag_time", sa.String(length=19), nullable=True),
        sa.Column("vali_flag", sa.String(length=3), nullable=False),
        sa.Column("msgid", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name=op.f("fk_visit_diagnoses_visit_id_visits")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_diagnoses")),
    )
    op.create_index(
        op.f("ix_visit_diagnoses_visit_id"), "visit_diagnoses", ["visit_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_visit_diagnoses_visit_id"), table_name="visit_diagnoses")
    op.drop_table("visit_diagnoses")
    with op.batch_alter_table("visits") as batch:
        for column in ("info_msgid", "dise_name", "dise_codg", "main_cond_dscr"):
            batch.drop_column(column)
    with op.batch_alter_table("fee_details") as batch:
        batch.drop_column("chrg_bchno")
