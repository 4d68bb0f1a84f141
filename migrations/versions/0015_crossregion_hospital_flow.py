"""crossregion: what the treatment region keeps of a hospital visit of a person insured elsewhere
— the 2203 visit information and diagnoses, when the visit ended (2202, 2601 of its 2201) — and of
a settlement, its priced lines and the person's masked particulars for 5203

Revision ID: 0015_crossregion_hospital_flow
Revises: 0014_crossregion
Create Date: 2026-12-08 02:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from yibao.db.types import UTCDateTime

revision: str = "0015_crossregion_hospital_flow"
down_revision: str | Sequence[str] | None = "0014_crossregion"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("crossregion_visits") as batch:
        batch.add_column(sa.Column("info", sa.Text(), nullable=True))
        batch.add_column(sa.Column("info_msgid", sa.String(30), nullable=True))
        batch.add_column(sa.Column("ended_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("crossregion_settlements") as batch:
        batch.add_column(sa.Column("items", sa.Text(), nullable=True))
        batch.add_column(sa.Column("person", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crossregion_settlements") as batch:
        batch.drop_column("person")
        batch.drop_column("items")
    with op.batch_alter_table("crossregion_visits") as batch:
        batch.drop_column("ended_at")
        batch.drop_column("info_msgid")
        batch.drop_column("info")
