"""filings: 异地就医备案, their uploaded proofs, and each region's 备案 rules

Revision ID: 0014_filings
Revises: 0001
Create Date: 2026-12-07 23:20:00

`treatment_admdvs` has no foreign key: the treatment region is usually another deployment's.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from yibao.db.types import UTCDateTime

revision: str = "0014_filings"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "filings",
        sa.Column("id", BIGINT, autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filings")),
        sa.Column("person_id", BIGINT, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("insured_admdvs", sa.String(6), nullable=False),
        sa.Column("treatment_admdvs", sa.String(6), nullable=False),
        sa.Column("treatment_name", sa.String(60), nullable=False),
        sa.Column("begins", sa.Date(), nullable=False),
        sa.Column("ends", sa.Date(), nullable=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("channel", sa.String(12), nullable=False),
        sa.Column("document_kind", sa.String(12), nullable=True),
        sa.Column("document_note", sa.String(200), nullable=False),
        sa.Column("referral_medins_code", sa.String(30), nullable=True),
        sa.Column("phone_masked", sa.String(11), nullable=True),
        sa.Column("replaces_id", BIGINT, nullable=True),
        sa.Column("serial", sa.String(30), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(60), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("ended_by", sa.String(60), nullable=True),
        sa.Column("end_reason", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_filings_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["insured_admdvs"], ["regions.admdvs"], name=op.f("fk_filings_insured_admdvs_regions")
        ),
        sa.ForeignKeyConstraint(
            ["replaces_id"], ["filings.id"], name=op.f("fk_filings_replaces_id_filings")
        ),
        sa.CheckConstraint(
            "kind IN ('retiree_resettled', 'long_term_resident', 'working_away', 'referral',"
            " 'emergency', 'other_temporary')",
            name=op.f("ck_filings_kind"),
        ),
        sa.CheckConstraint(
            "state IN ('active', 'cancelled', 'changed')", name=op.f("ck_filings_state")
        ),
        sa.CheckConstraint(
            "channel IN ('app', 'counter', 'institution')", name=op.f("ck_filings_channel")
        ),
        sa.CheckConstraint(
            "document_kind IS NULL OR document_kind IN ('referral', 'upload', 'declaration')",
            name=op.f("ck_filings_document_kind"),
        ),
        sa.CheckConstraint("ends IS NULL OR ends >= begins", name=op.f("ck_filings_dates")),
        sa.UniqueConstraint("serial", name=op.f("uq_filings_serial")),
    )
    op.create_index("ix_filings_person_state", "filings", ["person_id", "state"])
    op.create_table(
        "filing_documents",
        sa.Column("id", BIGINT, autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filing_documents")),
        sa.Column("filing_id", BIGINT, nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("content_type", sa.String(40), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("storage_name", sa.String(120), nullable=False),
        sa.Column("uploaded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["filing_id"], ["filings.id"], name=op.f("fk_filing_documents_filing_id_filings")
        ),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_filing_documents_size_positive")),
        sa.UniqueConstraint("storage_name", name=op.f("uq_filing_documents_storage_name")),
    )
    op.create_index("ix_filing_documents_filing_id", "filing_documents", ["filing_id"])
    op.create_table(
        "filing_rules",
        sa.Column("admdvs", sa.String(6), nullable=False),
        sa.PrimaryKeyConstraint("admdvs", name=op.f("pk_filing_rules")),
        sa.Column("allowed_kinds", sa.String(200), nullable=False),
        sa.Column("change_after_months", sa.Integer(), nullable=False),
        sa.Column("temporary_months", sa.Integer(), nullable=False),
        sa.Column("emergency_backdate_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(60), nullable=False),
        sa.ForeignKeyConstraint(
            ["admdvs"], ["regions.admdvs"], name=op.f("fk_filing_rules_admdvs_regions")
        ),
        sa.CheckConstraint(
            "change_after_months BETWEEN 0 AND 60", name=op.f("ck_filing_rules_change_after")
        ),
        sa.CheckConstraint(
            "temporary_months BETWEEN 6 AND 24", name=op.f("ck_filing_rules_temporary_months")
        ),
        sa.CheckConstraint(
            "emergency_backdate_days BETWEEN 0 AND 365", name=op.f("ck_filing_rules_backdate")
        ),
    )


def downgrade() -> None:
    op.drop_table("filing_rules")
    op.drop_index("ix_filing_documents_filing_id", table_name="filing_documents")
    op.drop_table("filing_documents")
    op.drop_index("ix_filings_person_state", table_name="filings")
    op.drop_table("filings")
