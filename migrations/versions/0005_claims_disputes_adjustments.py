"""claims disputes adjustments

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-25 08:30:57.404646
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from yibao.db.types import UTCDateTime

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "claims",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("request_key", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=15), nullable=False),
        sa.Column("fixmedins_name", sa.String(length=100), nullable=False),
        sa.Column("fixmedins_code", sa.String(length=12), nullable=True),
        sa.Column("med_type", sa.String(length=2), nullable=False),
        sa.Column("begin_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("diagnosis", sa.String(length=200), nullable=False),
        sa.Column("not_settled_reason", sa.String(length=30), nullable=False),
        sa.Column("medfee_sumamt_fen", sa.BigInteger(), nullable=False),
        sa.Column("fulamt_ownpay_amt_fen", sa.BigInteger(), nullable=False),
        sa.Column("overlmt_selfpay_fen", sa.BigInteger(), nullable=True),
        sa.Column("preselfpay_amt_fen", sa.BigInteger(), nullable=True),
        sa.Column("inscp_scp_amt_fen", sa.BigInteger(), nullable=True),
        sa.Column("act_pay_dedc_fen", sa.BigInteger(), nullable=True),
        sa.Column("hifp_pay_fen", sa.BigInteger(), nullable=True),
        sa.Column("psn_part_amt_fen", sa.BigInteger(), nullable=True),
        sa.Column("reject_code", sa.String(length=3), nullable=True),
        sa.Column("reject_text", sa.Text(), nullable=True),
        sa.Column("payment_ref", sa.String(length=64), nullable=True),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status <> 'paid' OR payment_ref IS NOT NULL", name=op.f("ck_claims_paid_has_reference")
        ),
        sa.CheckConstraint(
            "status <> 'rejected' OR reject_code IS NOT NULL",
            name=op.f("ck_claims_rejected_has_reason"),
        ),
        sa.CheckConstraint(
            "status IN ('submitted', 'under_review', 'approved', 'rejected', 'paid', 'withdrawn')",
            name=op.f("ck_claims_status"),
        ),
        sa.CheckConstraint(
            "status NOT IN ('approved', 'paid') OR (hifp_pay_fen IS NOT NULL AND psn_part_amt_fen IS NOT NULL AND hifp_pay_fen + psn_part_amt_fen = medfee_sumamt_fen)",
            name=op.f("ck_claims_approved_has_share"),
        ),
        sa.CheckConstraint("end_date >= begin_date", name=op.f("ck_claims_dates")),
        sa.CheckConstraint(
            "medfee_sumamt_fen > 0 AND fulamt_ownpay_amt_fen >= 0 AND fulamt_ownpay_amt_fen <= medfee_sumamt_fen",
            name=op.f("ck_claims_amounts"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_claims_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claims")),
        sa.UniqueConstraint("person_id", "request_key", name="uq_claims_person_request_key"),
    )
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.create_index(
            "ix_claims_person_submitted", ["person_id", "submitted_at"], unique=False
        )
        batch_op.create_index(
            "ix_claims_status_submitted", ["status", "submitted_at"], unique=False
        )

    op.create_table(
        "claim_attachments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("claim_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("storage_name", sa.String(length=40), nullable=False),
        sa.Column("content_type", sa.String(length=30), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "content_type IN ('image/jpeg', 'image/png', 'application/pdf')",
            name=op.f("ck_claim_attachments_content_type"),
        ),
        sa.CheckConstraint(
            "kind IN ('invoice', 'itemised_list', 'diagnosis')",
            name=op.f("ck_claim_attachments_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_claim_attachments_claim_id_claims")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_attachments")),
        sa.UniqueConstraint("storage_name", name=op.f("uq_claim_attachments_storage_name")),
    )
    with op.batch_alter_table("claim_attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_claim_attachments_claim_id"), ["claim_id"], unique=False
        )

    op.create_table(
        "claim_steps",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("claim_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event", sa.String(length=15), nullable=False),
        sa.Column("status", sa.String(length=15), nullable=False),
        sa.Column("actor_type", sa.String(length=10), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=False),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("office", sa.String(length=100), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "actor_type IN ('person', 'staff')", name=op.f("ck_claim_steps_actor_type")
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_claim_steps_claim_id_claims")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_steps")),
    )
    with op.batch_alter_table("claim_steps", schema=None) as batch_op:
        batch_op.create_index("ix_claim_steps_claim", ["claim_id", "at", "id"], unique=False)

    op.create_table(
        "adjustment_proposals",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.Column(
            "reverses_entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("proposed_by_staff_id", sa.BigInteger(), nullable=False),
        sa.Column("proposed_by_name", sa.String(length=100), nullable=False),
        sa.Column("proposed_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("decided_by_staff_id", sa.BigInteger(), nullable=True),
        sa.Column("decided_by_name", sa.String(length=100), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column(
            "ledger_entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.CheckConstraint(
            "kind <> 'reversal' OR reverses_entry_id IS NOT NULL",
            name=op.f("ck_adjustment_proposals_reversal_names_entry"),
        ),
        sa.CheckConstraint(
            "kind <> 'staff_adjustment' OR (amount_fen IS NOT NULL AND amount_fen <> 0)",
            name=op.f("ck_adjustment_proposals_adjustment_has_amount"),
        ),
        sa.CheckConstraint(
            "kind IN ('staff_adjustment', 'reversal')", name=op.f("ck_adjustment_proposals_kind")
        ),
        sa.CheckConstraint(
            "status <> 'approved' OR ledger_entry_id IS NOT NULL",
            name=op.f("ck_adjustment_proposals_approved_is_posted"),
        ),
        sa.CheckConstraint(
            "status IN ('proposed', 'approved', 'rejected')",
            name=op.f("ck_adjustment_proposals_status"),
        ),
        sa.CheckConstraint(
            "decided_by_staff_id IS NULL OR decided_by_staff_id <> proposed_by_staff_id",
            name=op.f("ck_adjustment_proposals_no_self_approval"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["personal_accounts.id"],
            name=op.f("fk_adjustment_proposals_account_id_personal_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["ledger_entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_adjustment_proposals_ledger_entry_id_ledger_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_adjustment_proposals_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["reverses_entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_adjustment_proposals_reverses_entry_id_ledger_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adjustment_proposals")),
        sa.UniqueConstraint(
            "ledger_entry_id", name=op.f("uq_adjustment_proposals_ledger_entry_id")
        ),
    )
    with op.batch_alter_table("adjustment_proposals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_adjustment_proposals_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(
            "ix_adjustment_proposals_status", ["status", "proposed_at"], unique=False
        )

    op.create_table(
        "disputes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column(
            "ledger_entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("audit_record_id", sa.BigInteger(), nullable=True),
        sa.Column("details_json", sa.Text(), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("froze_account", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("resolved_by_staff_id", sa.BigInteger(), nullable=True),
        sa.Column("resolved_by_name", sa.String(length=100), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "(kind = 'consumption' AND ledger_entry_id IS NOT NULL) OR (kind = 'lookup' AND audit_record_id IS NOT NULL)",
            name=op.f("ck_disputes_names_its_record"),
        ),
        sa.CheckConstraint("kind IN ('consumption', 'lookup')", name=op.f("ck_disputes_kind")),
        sa.CheckConstraint(
            "status <> 'resolved' OR outcome IS NOT NULL",
            name=op.f("ck_disputes_resolved_has_outcome"),
        ),
        sa.CheckConstraint("status IN ('open', 'resolved')", name=op.f("ck_disputes_status")),
        sa.ForeignKeyConstraint(
            ["ledger_entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_disputes_ledger_entry_id_ledger_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_disputes_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
    )
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_disputes_person_created", ["person_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_disputes_status_created", ["status", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.drop_index("ix_disputes_status_created")
        batch_op.drop_index("ix_disputes_person_created")

    op.drop_table("disputes")
    with op.batch_alter_table("adjustment_proposals", schema=None) as batch_op:
        batch_op.drop_index("ix_adjustment_proposals_status")
        batch_op.drop_index(batch_op.f("ix_adjustment_proposals_person_id"))

    op.drop_table("adjustment_proposals")
    with op.batch_alter_table("claim_steps", schema=None) as batch_op:
        batch_op.drop_index("ix_claim_steps_claim")

    op.drop_table("claim_steps")
    with op.batch_alter_table("claim_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_attachments_claim_id"))

    op.drop_table("claim_attachments")
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_index("ix_claims_status_submitted")
        batch_op.drop_index("ix_claims_person_submitted")

    op.drop_table("claims")
