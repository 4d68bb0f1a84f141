"""hotline: one record per call to 12333 / 12393 (menu path, transcript, queue for an agent)

Revision ID: 0013_hotline
Revises: 0001
Create Date: 2026-12-07 20:20:00

The call records of the hotline channel (src/yibao/hotline/, feature `calls`): start and end,
the IVR's state between events, the menu path, the transcript of what was said (with an ID
number or a password only as a mark), who was identified and how, and the queue for an agent.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from yibao.db.types import UTCDateTime

revision: str = "0013_hotline"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "hotline_calls",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("call_ref", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("step", sa.String(length=20), nullable=False),
        sa.Column("state_json", sa.Text(), nullable=False),
        sa.Column("menu_path", sa.Text(), nullable=False),
        sa.Column("transcript_json", sa.Text(), nullable=False),
        sa.Column("person_id", _ID, nullable=True),
        sa.Column("identified_by", sa.String(length=10), nullable=True),
        sa.Column("queued_at", UTCDateTime(), nullable=True),
        sa.Column("taken_at", UTCDateTime(), nullable=True),
        sa.Column("agent_staff_id", sa.BigInteger(), nullable=True),
        sa.Column("end_reason", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_hotline_calls_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotline_calls")),
        sa.UniqueConstraint("call_ref", name=op.f("uq_hotline_calls_call_ref")),
    )
    op.create_index("ix_hotline_calls_started_at", "hotline_calls", ["started_at"])
    op.create_index("ix_hotline_calls_queued_at", "hotline_calls", ["queued_at"])


def downgrade() -> None:
    op.drop_index("ix_hotline_calls_queued_at", table_name="hotline_calls")
    op.drop_index("ix_hotline_calls_started_at", table_name="hotline_calls")
    op.drop_table("hotline_calls")
