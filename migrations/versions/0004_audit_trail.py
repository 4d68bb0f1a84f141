"""audit trail

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-25 08:26:07.051207
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from yibao.db.types import UTCDateTime

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_archives",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("from_seq", sa.BigInteger(), nullable=False),
        sa.Column("through_seq", sa.BigInteger(), nullable=False),
        sa.Column("through_hash", sa.String(length=64), nullable=False),
        sa.Column("record_count", sa.BigInteger(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("archived_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("through_seq >= from_seq", name=op.f("ck_audit_archives_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_archives")),
        sa.UniqueConstraint("through_seq", name=op.f("uq_audit_archives_through_seq")),
    )
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.create_table(
        "audit_records",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("actor_type", sa.String(length=10), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("office", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("subject_person_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("detail_json", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "actor_type IN ('staff', 'partner', 'person', 'system')",
            name=op.f("ck_audit_records_actor_type"),
        ),
        sa.CheckConstraint("seq > 0", name=op.f("ck_audit_records_seq_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_records")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_records_hash")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_records_seq")),
    )
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.create_index("ix_audit_records_occurred", ["occurred_at"], unique=False)
        batch_op.create_index(
            "ix_audit_records_subject", ["subject_person_id", "occurred_at", "id"], unique=False
        )

    op.execute(
        "INSERT INTO audit_chain_head (id, last_seq, last_hash) VALUES (1, 0, '" + "0" * 64 + "')"
    )
    _guard()


def _guard() -> None:
    """The database refuses to edit an audit record, and to delete one no archive covers."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE OR REPLACE FUNCTION yibao_audit_guard() RETURNS trigger AS $$
            BEGIN
              IF TG_OP = 'DELETE' AND OLD.seq <= (
                SELECT COALESCE(MAX(through_seq), 0) FROM audit_archives
              ) THEN
                RETURN OLD;
              END IF;
              RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE ON audit_records"
            " FOR EACH ROW EXECUTE FUNCTION yibao_audit_guard()"
        )
        op.execute(
            "CREATE TRIGGER audit_archives_append_only BEFORE UPDATE OR DELETE ON audit_archives"
            " FOR EACH ROW EXECUTE FUNCTION yibao_refuse_change()"
        )
    else:
        op.execute(
            "CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records"
            " BEGIN SELECT RAISE(ABORT, 'audit_records is append-only: UPDATE refused'); END"
        )
        op.execute(
            "CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records"
            " WHEN OLD.seq > (SELECT COALESCE(MAX(through_seq), 0) FROM audit_archives)"
            " BEGIN SELECT RAISE(ABORT, 'audit_records is append-only: DELETE refused'); END"
        )
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_archives_no_{action.lower()} BEFORE {action} ON audit_archives"
                f" BEGIN SELECT RAISE(ABORT, 'audit_archives is append-only: {action} refused'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_records_append_only ON audit_records")
        op.execute("DROP TRIGGER IF EXISTS audit_archives_append_only ON audit_archives")
        op.execute("DROP FUNCTION IF EXISTS yibao_audit_guard()")
    else:
        for name in (
            "audit_records_no_update",
            "audit_records_no_delete",
            "audit_archives_no_update",
            "audit_archives_no_delete",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("audit_records", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_records_subject")
        batch_op.drop_index("ix_audit_records_occurred")

    op.drop_table("audit_records")
    op.drop_table("audit_chain_head")
    op.drop_table("audit_archives")
