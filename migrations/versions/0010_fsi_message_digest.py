"""settlement: a stored answer keeps the digest of the message it answered

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 17:20:00

A msgid repeated with the same business content (`infno` and `input`) is a retry and gets the
stored answer; repeated with other content it is refused. The digest (SHA-256 of the canonical
JSON of `infno` and `input`) tells them apart. Rows stored before this revision keep NULL and
are treated as matching: their msgids answer as they did before.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("fsi_messages", sa.Column("digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fsi_messages") as batch_op:
        batch_op.drop_column("digest")
