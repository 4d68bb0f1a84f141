"""kiosks: registered self-service kiosks (自助查询机), their card sessions and print jobs

Revision ID: 0013_kiosk
Revises: 0001
Create Date: 2026-12-07 20:30:00

A kiosk's key is kept as its SHA-256 only. A session row holds the SHA-256 of the token the kiosk
browser's cookie carries; print jobs hold whose statement and which days, never the PDF.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from yibao.db.types import UTCDateTime

revision: str = "0013_kiosk"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "kiosks",
        sa.Column("id", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosks")),
        sa.Column("place", sa.String(60), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("registered_at", UTCDateTime(), nullable=False),
        sa.Column("registered_by", sa.String(60), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("last_seen_at", UTCDateTime(), nullable=True),
        sa.Column("card_state", sa.String(10), nullable=False),
        sa.Column("card_message", sa.String(200), nullable=True),
        sa.Column("card_person_id", BIGINT, nullable=True),
        sa.Column("card_no", sa.String(20), nullable=True),
        sa.Column("printer_state", sa.String(20), nullable=True),
        sa.Column("printer_problem", sa.String(60), nullable=True),
        sa.ForeignKeyConstraint(
            ["card_person_id"], ["persons.id"], name=op.f("fk_kiosks_card_person_id_persons")
        ),
        sa.CheckConstraint(
            "card_state IN ('none', 'present', 'refused', 'no_reader')",
            name=op.f("ck_kiosks_card_state"),
        ),
        sa.UniqueConstraint("key_hash", name=op.f("uq_kiosks_key_hash")),
    )
    op.create_table(
        "kiosk_sessions",
        sa.Column("id", BIGINT, autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosk_sessions")),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("kiosk_id", sa.String(32), nullable=False),
        sa.Column("person_id", BIGINT, nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("last_touch_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("end_reason", sa.String(20), nullable=True),
        sa.ForeignKeyConstraint(
            ["kiosk_id"], ["kiosks.id"], name=op.f("fk_kiosk_sessions_kiosk_id_kiosks")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_kiosk_sessions_person_id_persons")
        ),
        sa.CheckConstraint(
            "method IN ('card', 'voucher', 'sms')", name=op.f("ck_kiosk_sessions_method")
        ),
        sa.UniqueConstraint("token_hash", name=op.f("uq_kiosk_sessions_token_hash")),
    )
    op.create_index("ix_kiosk_sessions_kiosk_day", "kiosk_sessions", ["kiosk_id", "opened_on"])
    op.create_table(
        "kiosk_print_jobs",
        sa.Column("id", BIGINT, autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosk_print_jobs")),
        sa.Column("kiosk_id", sa.String(32), nullable=False),
        sa.Column("session_id", BIGINT, nullable=False),
        sa.Column("person_id", BIGINT, nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("message", sa.String(200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["kiosk_id"], ["kiosks.id"], name=op.f("fk_kiosk_print_jobs_kiosk_id_kiosks")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["kiosk_sessions.id"],
            name=op.f("fk_kiosk_print_jobs_session_id_kiosk_sessions"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_kiosk_print_jobs_person_id_persons")
        ),
        sa.CheckConstraint(
            "state IN ('queued', 'sent', 'printed', 'failed', 'cancelled')",
            name=op.f("ck_kiosk_print_jobs_state"),
        ),
    )
    op.create_index("ix_kiosk_print_jobs_session_id", "kiosk_print_jobs", ["session_id"])
    op.create_index("ix_kiosk_print_jobs_kiosk_state", "kiosk_print_jobs", ["kiosk_id", "state"])


def downgrade() -> None:
    op.drop_table("kiosk_print_jobs")
    op.drop_table("kiosk_sessions")
    op.drop_table("kiosks")
