"""notifications: a person's notice preferences (an SMS of each credit, off by default)

Revision ID: 0014_notice_preferences
Revises: 0011
Create Date: 2026-12-07 23:40:00

The crediting runs (month and year end) send every credit as an in-app notice, and by SMS only to
the persons who asked for it on their settings page (notice_preferences.credit_sms).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import yibao.db.types

revision: str = "0014_notice_preferences"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notice_preferences",
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("credit_sms", sa.Boolean(), nullable=False),
        sa.Column("updated_at", yibao.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_notice_preferences_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_notice_preferences")),
    )


def downgrade() -> None:
    op.drop_table("notice_preferences")
