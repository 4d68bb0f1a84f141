"""settlement: a stored answer's infno fits every transaction code of the national list

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-07 19:00:00

Transaction codes are not all four digits: the acceptance list has 1306A, 3501A–3507A and 100001.
`fsi_messages.infno` was VARCHAR(4), so the answer to such a message could not be stored on
PostgreSQL. Widening a VARCHAR there changes only the catalogue (no table rewrite). SQLite does
not enforce a VARCHAR's length, so its table is left as it is rather than copied by a batch
rebuild.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "fsi_messages",
            "infno",
            type_=sa.String(length=6),
            existing_type=sa.String(length=4),
            existing_nullable=False,
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "fsi_messages",
            "infno",
            type_=sa.String(length=4),
            existing_type=sa.String(length=6),
            existing_nullable=False,
        )
