"""settlement_vouchers: 电子结算凭证 kept per settlement, every version (4901/4905)

Revision ID: 0014_vouchers
Revises: 0001
Create Date: 2026-12-07 23:40:00

A new feature's chain (from 0001); it refers to `settlements` (0003), so it depends on that
revision. One row per version of a settlement's voucher: the structured data, the document if
one was sent, its SHA-256, the msgid that kept it (2601 withdraws that version).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from yibao.db.types import UTCDateTime

revision: str = "0014_vouchers"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0003"

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "settlement_vouchers",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("settlement_id", _ID, nullable=False),
        sa.Column("setl_id", sa.String(length=30), nullable=False),
        sa.Column("person_id", _ID, nullable=False),
        sa.Column("fixmedins_code", sa.String(length=12), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("bill_code", sa.String(length=50), nullable=False),
        sa.Column("bill_no", sa.String(length=50), nullable=False),
        sa.Column("bill_chkcode", sa.String(length=20), nullable=False),
        sa.Column("bill_time", UTCDateTime(), nullable=False),
        sa.Column("biller", sa.String(length=50), nullable=False),
        sa.Column("rechker", sa.String(length=50), nullable=False),
        sa.Column("medfee_sumamt_fen", sa.BigInteger(), nullable=False),
        sa.Column("fund_pay_sumamt_fen", sa.BigInteger(), nullable=False),
        sa.Column("acct_pay_fen", sa.BigInteger(), nullable=False),
        sa.Column("acct_mulaid_pay_fen", sa.BigInteger(), nullable=False),
        sa.Column("psn_cash_pay_fen", sa.BigInteger(), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=True),
        sa.Column("document_type", sa.String(length=20), nullable=True),
        sa.Column("document_name", sa.String(length=100), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("msgid", sa.String(length=40), nullable=False),
        sa.Column("uploaded_at", UTCDateTime(), nullable=False),
        sa.Column("withdrawn_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("version >= 1", name=op.f("ck_settlement_vouchers_version")),
        sa.CheckConstraint(
            "medfee_sumamt_fen >= 0 AND fund_pay_sumamt_fen >= 0 AND acct_pay_fen >= 0"
            " AND acct_mulaid_pay_fen >= 0 AND psn_cash_pay_fen >= 0",
            name=op.f("ck_settlement_vouchers_amounts_non_negative"),
        ),
        sa.CheckConstraint(
            "document_type IS NULL OR document_type IN"
            " ('application/pdf', 'image/jpeg', 'image/png')",
            name=op.f("ck_settlement_vouchers_document_type"),
        ),
        sa.ForeignKeyConstraint(
            ["settlement_id"],
            ["settlements.id"],
            name=op.f("fk_settlement_vouchers_settlement_id_settlements"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_settlement_vouchers_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_vouchers")),
        sa.UniqueConstraint("msgid", name=op.f("uq_settlement_vouchers_msgid")),
        sa.UniqueConstraint("settlement_id", "version", name="uq_settlement_vouchers_version"),
    )
    op.create_index(op.f("ix_settlement_vouchers_person_id"), "settlement_vouchers", ["person_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_settlement_vouchers_person_id"), table_name="settlement_vouchers")
    op.drop_table("settlement_vouchers")
