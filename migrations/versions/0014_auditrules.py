"""auditrules: the detail audit's rule versions, checks and findings (issue #22, 3101/3102/3103)

Revision ID: 0014_auditrules
Revises: 0001
Create Date: 2026-12-07 23:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from yibao.db.types import UTCDateTime

revision: str = "0014_auditrules"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "audit_rule_versions",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("rule_code", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("med_list_codg", sa.String(length=50), nullable=False),
        sa.Column("severity", sa.String(length=5), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("params_json", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("proposed_by_staff_id", sa.BigInteger(), nullable=True),
        sa.Column("proposed_by_name", sa.String(length=100), nullable=False),
        sa.Column("proposed_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by_staff_id", sa.BigInteger(), nullable=True),
        sa.Column("decided_by_name", sa.String(length=100), nullable=True),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('proposed', 'approved', 'rejected')",
            name=op.f("ck_audit_rule_versions_status"),
        ),
        sa.CheckConstraint(
            "severity IN ('warn', 'block')", name=op.f("ck_audit_rule_versions_severity")
        ),
        sa.CheckConstraint(
            "decided_by_staff_id IS NULL OR proposed_by_staff_id IS NULL"
            " OR decided_by_staff_id <> proposed_by_staff_id",
            name=op.f("ck_audit_rule_versions_no_self_approval"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_rule_versions")),
        sa.UniqueConstraint("rule_code", "version", name=op.f("uq_audit_rule_versions_rule_code")),
    )
    op.create_table(
        "audit_checks",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("task_id", sa.String(length=40), nullable=False),
        sa.Column("trig", sa.String(length=10), nullable=False),
        sa.Column("fixmedins_code", sa.String(length=12), nullable=False),
        sa.Column("psn_no", sa.String(length=30), nullable=False),
        sa.Column("mdtrt_id", sa.String(length=40), nullable=False),
        sa.Column("setl_id", sa.String(length=30), nullable=True),
        sa.Column("msgid", sa.String(length=40), nullable=False),
        sa.Column("rules_applied", sa.Integer(), nullable=False),
        sa.Column("checked_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checks")),
        sa.UniqueConstraint("task_id", name=op.f("uq_audit_checks_task_id")),
    )
    op.create_index(op.f("ix_audit_checks_setl_id"), "audit_checks", ["setl_id"])
    op.create_index("ix_audit_checks_institution_psn", "audit_checks", ["fixmedins_code", "psn_no"])
    op.create_table(
        "audit_findings",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("jr_id", sa.String(length=40), nullable=False),
        sa.Column("check_id", ID, nullable=False),
        sa.Column("rule_version_id", ID, nullable=False),
        sa.Column("rule_code", sa.String(length=20), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("rule_name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("severity", sa.String(length=5), nullable=False),
        sa.Column("line_ids", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("vola_amt_fen", sa.BigInteger(), nullable=False),
        sa.Column("dspo_way", sa.String(length=1), nullable=True),
        sa.Column("dspo_way_rea", sa.String(length=500), nullable=True),
        sa.Column("dspo_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "severity IN ('warn', 'block')", name=op.f("ck_audit_findings_severity")
        ),
        sa.CheckConstraint(
            "dspo_way IS NULL OR dspo_way IN ('1', '2')", name=op.f("ck_audit_findings_dspo_way")
        ),
        sa.ForeignKeyConstraint(
            ["check_id"], ["audit_checks.id"], name=op.f("fk_audit_findings_check_id_audit_checks")
        ),
        sa.ForeignKeyConstraint(
            ["rule_version_id"],
            ["audit_rule_versions.id"],
            name=op.f("fk_audit_findings_rule_version_id_audit_rule_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_findings")),
        sa.UniqueConstraint("jr_id", name=op.f("uq_audit_findings_jr_id")),
    )
    op.create_index(op.f("ix_audit_findings_check_id"), "audit_findings", ["check_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_findings_check_id"), table_name="audit_findings")
    op.drop_table("audit_findings")
    op.drop_index("ix_audit_checks_institution_psn", table_name="audit_checks")
    op.drop_index(op.f("ix_audit_checks_setl_id"), table_name="audit_checks")
    op.drop_table("audit_checks")
    op.drop_table("audit_rule_versions")
