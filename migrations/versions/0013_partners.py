"""partners: the open API's partner apps, the person's grants, codes and tokens (issue #19)

Revision ID: 0013_partners
Revises: 0001
Create Date: 2026-12-07 19:56:21.885515
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from yibao.db.types import UTCDateTime

revision: str = "0013_partners"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("company", sa.String(length=100), nullable=False),
        sa.Column("redirect_uris_json", sa.Text(), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=False),
        sa.Column("public_keys_json", sa.Text(), nullable=True),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("proposed_by_staff_id", sa.BigInteger(), nullable=True),
        sa.Column("proposed_by_name", sa.String(length=100), nullable=False),
        sa.Column("proposed_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by_staff_id", sa.BigInteger(), nullable=True),
        sa.Column("decided_by_name", sa.String(length=100), nullable=True),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("suspended_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("secret_rotated_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('proposed', 'active', 'rejected', 'suspended')",
            name=op.f("ck_partners_status"),
        ),
        sa.CheckConstraint(
            "status NOT IN ('active', 'suspended') OR secret_hash IS NOT NULL",
            name=op.f("ck_partners_active_has_secret"),
        ),
        sa.CheckConstraint(
            "decided_by_staff_id IS NULL OR proposed_by_staff_id IS NULL OR decided_by_staff_id <> proposed_by_staff_id",
            name=op.f("ck_partners_no_self_approval"),
        ),
        sa.CheckConstraint(
            "rate_limit_per_minute > 0", name=op.f("ck_partners_rate_limit_positive")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners")),
        sa.UniqueConstraint("client_id", name=op.f("uq_partners_client_id")),
    )
    op.create_table(
        "partner_grants",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "partner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "person_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("granted_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_partner_grants_partner_id_partners")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_partner_grants_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_grants")),
    )
    with op.batch_alter_table("partner_grants", schema=None) as batch_op:
        batch_op.create_index(
            "ix_partner_grants_partner_person", ["partner_id", "person_id"], unique=False
        )
        batch_op.create_index("ix_partner_grants_person", ["person_id", "granted_at"], unique=False)

    op.create_table(
        "partner_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("grant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "partner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("redirect_uri", sa.String(length=500), nullable=False),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("family", sa.String(length=64), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["partner_grants.id"],
            name=op.f("fk_partner_codes_grant_id_partner_grants"),
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_partner_codes_partner_id_partners")
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_partner_codes")),
    )
    with op.batch_alter_table("partner_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partner_codes_grant_id"), ["grant_id"], unique=False)

    op.create_table(
        "partner_tokens",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column(
            "partner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("grant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("family", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.String(length=200), nullable=False),
        sa.Column("issued_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('access', 'refresh')", name=op.f("ck_partner_tokens_kind")),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["partner_grants.id"],
            name=op.f("fk_partner_tokens_grant_id_partner_grants"),
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_partner_tokens_partner_id_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_partner_tokens_token_hash")),
    )
    with op.batch_alter_table("partner_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partner_tokens_family"), ["family"], unique=False)
        batch_op.create_index(batch_op.f("ix_partner_tokens_grant_id"), ["grant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("partner_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_tokens_grant_id"))
        batch_op.drop_index(batch_op.f("ix_partner_tokens_family"))

    op.drop_table("partner_tokens")
    with op.batch_alter_table("partner_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partner_codes_grant_id"))

    op.drop_table("partner_codes")
    with op.batch_alter_table("partner_grants", schema=None) as batch_op:
        batch_op.drop_index("ix_partner_grants_person")
        batch_op.drop_index("ix_partner_grants_partner_person")

    op.drop_table("partner_grants")
    op.drop_table("partners")
