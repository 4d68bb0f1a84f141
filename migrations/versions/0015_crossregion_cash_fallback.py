"""crossregion: settle in cash when the home region is unreachable (全额垫付) — the home region's
choice in the directory, cash settlements at the treatment region as the outbox of the record
owed to the home region, and claims paid elsewhere at the home region; and a second public
key per deployment in the directory (key rotation)

Revision ID: 0015_crossregion_cash_fallback
Revises: 0014_crossregion
Create Date: 2026-12-08 02:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from yibao.db.types import UTCDateTime

revision: str = "0015_crossregion_cash_fallback"
down_revision: str | Sequence[str] | None = "0014_crossregion"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNDELIVERED = "mode = 'cash' AND delivered_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("crossregion_peers") as batch:
        batch.add_column(
            sa.Column("when_unreachable", sa.String(8), nullable=False, server_default="refuse")
        )
        batch.create_check_constraint(
            op.f("ck_crossregion_peers_when_unreachable"), "when_unreachable IN ('refuse', 'cash')"
        )
        # Key rotation: the key a deployment is rolling to, accepted beside the current one.
        batch.add_column(sa.Column("next_public_key", sa.String(64), nullable=True))
    with op.batch_alter_table("crossregion_claims") as batch:
        batch.drop_constraint(op.f("ck_crossregion_claims_status"), type_="check")
        batch.create_check_constraint(
            op.f("ck_crossregion_claims_status"), "status IN ('settled', 'reversed', 'cash')"
        )
    with op.batch_alter_table("crossregion_settlements") as batch:
        batch.add_column(sa.Column("mode", sa.String(8), nullable=False, server_default="direct"))
        batch.add_column(sa.Column("delivered_at", UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column("delivery_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("next_delivery_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("last_delivery_error", sa.String(200), nullable=True))
        batch.create_check_constraint(
            op.f("ck_crossregion_settlements_mode"), "mode IN ('direct', 'cash')"
        )
    op.create_index(
        "ix_crossregion_claims_cash_person",
        "crossregion_claims",
        ["person_id"],
        postgresql_where=sa.text("status = 'cash'"),
        sqlite_where=sa.text("status = 'cash'"),
    )
    op.create_index(
        "ix_crossregion_settlements_undelivered",
        "crossregion_settlements",
        ["next_delivery_at"],
        postgresql_where=sa.text(_UNDELIVERED),
        sqlite_where=sa.text(_UNDELIVERED),
    )


def downgrade() -> None:
    op.drop_index("ix_crossregion_settlements_undelivered", "crossregion_settlements")
    op.drop_index("ix_crossregion_claims_cash_person", "crossregion_claims")
    with op.batch_alter_table("crossregion_settlements") as batch:
        batch.drop_constraint(op.f("ck_crossregion_settlements_mode"), type_="check")
        for name in (
            "last_delivery_error",
            "next_delivery_at",
            "delivery_attempts",
            "delivered_at",
            "mode",
        ):
            batch.drop_column(name)
    op.execute("DELETE FROM crossregion_claims WHERE status = 'cash'")
    with op.batch_alter_table("crossregion_claims") as batch:
        batch.drop_constraint(op.f("ck_crossregion_claims_status"), type_="check")
        batch.create_check_constraint(
            op.f("ck_crossregion_claims_status"), "status IN ('settled', 'reversed')"
        )
    with op.batch_alter_table("crossregion_peers") as batch:
        batch.drop_constraint(op.f("ck_crossregion_peers_when_unreachable"), type_="check")
        batch.drop_column("when_unreachable")
        batch.drop_column("next_public_key")
