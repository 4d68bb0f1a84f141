"""prescriptions: 电子处方线下流转授权, one row per authorisation a pharmacy asked for (7201)

Revision ID: 0014_prescriptions
Revises: 0001
Create Date: 2026-12-07 23:45:00

A new feature's chain (from 0001). A prescription is authorised to one pharmacy at a time: a
partial unique index on `hi_rxno` over the active rows (PostgreSQL and SQLite both have them).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from yibao.db.types import UTCDateTime

revision: str = "0014_prescriptions"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "prescription_authorisations",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("auth_no", sa.String(length=30), nullable=False),
        sa.Column("hi_rxno", sa.String(length=40), nullable=False),
        sa.Column("person_id", _ID, nullable=False),
        sa.Column("fixmedins_code", sa.String(length=12), nullable=False),
        sa.Column("prsc_fixmedins_code", sa.String(length=12), nullable=False),
        sa.Column("prescribed_at", UTCDateTime(), nullable=False),
        sa.Column("rx_trace_code", sa.String(length=64), nullable=False),
        sa.Column("phar_name", sa.String(length=50), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("authorised_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("msgid", sa.String(length=40), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'revoked')", name=op.f("ck_prescription_authorisations_status")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_prescription_authorisations_person_id_persons"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prescription_authorisations")),
        sa.UniqueConstraint("auth_no", name=op.f("uq_prescription_authorisations_auth_no")),
        sa.UniqueConstraint("msgid", name=op.f("uq_prescription_authorisations_msgid")),
    )
    op.create_index(
        op.f("ix_prescription_authorisations_person_id"),
        "prescription_authorisations",
        ["person_id"],
    )
    op.create_index(
        "uq_prescription_authorisations_active",
        "prescription_authorisations",
        ["hi_rxno"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
        sqlite_where=sa.text("status = 'active'"),
    )


def downgrade() -> None:
    op.drop_index("uq_prescription_authorisations_active", table_name="prescription_authorisations")
    op.drop_index(
        op.f("ix_prescription_authorisations_person_id"), table_name="prescription_authorisations"
    )
    op.drop_table("prescription_authorisations")
