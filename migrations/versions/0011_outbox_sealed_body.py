"""notifications: an SMS code's text is kept encrypted in the outbox until delivery

Revision ID: 0011
Revises: 0001
Create Date: 2026-12-07 17:50:00

An SMS carrying a verification code keeps, in `body`, only words without the code ("…验证码已发送…");
the text to send is in `body_enc`, encrypted with the runtime's data key, and the worker erases
it once the message is delivered or given up. A database dump or a backup therefore never holds a
code that still opens an account. Rows written before this revision keep their body as it was.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox_messages", sa.Column("body_enc", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages") as batch:
        batch.drop_column("body_enc")
