"""settlement: each fee line keeps the msgid of the 2204 that uploaded it

Revision ID: 0009
Revises: 0003
Create Date: 2026-11-25 16:10:00

2601 冲正 of a 2204 withdraws the lines that message uploaded, and only those: a visit may have
several uploads, and nothing else says which lines came in which message. Lines uploaded before
this revision keep NULL, so a 2601 of such an upload finds nothing of it to withdraw.

No index: the 2601 names the person, and the lines are found through the person's visits (the
index on visits.person_id, then the unique (visit_id, feedetl_sn)), so 2204 pays no extra index
write per line.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("fee_details", sa.Column("msgid", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fee_details") as batch_op:
        batch_op.drop_column("msgid")
