"""stock: an institution's items and stock, the movements that made it, traceability codes

Revision ID: 0014_stock
Revises: 0001
Create Date: 2026-12-08 00:00:00

进销存 (3501 … 3511). Movements are append-only: a deletion (3507) or a 2601 adds a compensating
movement and marks the original. Quantities are integers in ten-thousandths of the unit. A
movement whose stock after is below zero must carry its reason (a check constraint).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from yibao.db.types import UTCDateTime

revision: str = "0014_stock"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "stock_items",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("fixmedins_code", sa.String(length=12), nullable=False),
        sa.Column("fixmedins_hilist_id", sa.String(length=30), nullable=False),
        sa.Column("fixmedins_hilist_name", sa.String(length=200), nullable=False),
        sa.Column("med_list_codg", sa.String(length=50), nullable=False),
        sa.Column("rx_flag", sa.String(length=3), nullable=False),
        sa.Column("stock_units", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_items")),
        sa.UniqueConstraint("fixmedins_code", "fixmedins_hilist_id", name="uq_stock_items_item"),
    )
    op.create_table(
        "stock_movements",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("item_id", _ID, nullable=False),
        sa.Column("fixmedins_code", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("change_type", sa.String(length=6), nullable=True),
        sa.Column("fixmedins_bchno", sa.String(length=30), nullable=False),
        sa.Column("quantity_units", sa.BigInteger(), nullable=False),
        sa.Column("delta_units", sa.BigInteger(), nullable=False),
        sa.Column("balance_units", sa.BigInteger(), nullable=False),
        sa.Column("negative_reason", sa.String(length=500), nullable=True),
        sa.Column("occurred_at", UTCDateTime(), nullable=True),
        sa.Column("msgid", sa.String(length=30), nullable=False),
        sa.Column("setl_id", sa.String(length=30), nullable=True),
        sa.Column("mdtrt_sn", sa.String(length=30), nullable=True),
        sa.Column("psn_no", sa.String(length=30), nullable=True),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("undoes_id", _ID, nullable=True),
        sa.Column("undone_at", UTCDateTime(), nullable=True),
        sa.Column("undone_by_msgid", sa.String(length=30), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "balance_units >= 0 OR negative_reason IS NOT NULL",
            name=op.f("ck_stock_movements_negative_needs_reason"),
        ),
        sa.CheckConstraint(
            "kind IN ('inventory', 'change', 'purchase', 'purchase_return', 'sale', "
            "'sale_return', 'deletion')",
            name=op.f("ck_stock_movements_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["stock_items.id"], name=op.f("fk_stock_movements_item_id_stock_items")
        ),
        sa.ForeignKeyConstraint(
            ["undoes_id"],
            ["stock_movements.id"],
            name=op.f("fk_stock_movements_undoes_id_stock_movements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_movements")),
    )
    op.create_index(
        "ix_stock_movements_code_kind", "stock_movements", ["fixmedins_code", "kind", "id"]
    )
    op.create_index(
        "ix_stock_movements_code_bchno", "stock_movements", ["fixmedins_code", "fixmedins_bchno"]
    )
    op.create_index("ix_stock_movements_msgid", "stock_movements", ["msgid"])
    op.create_index("ix_stock_movements_setl_id", "stock_movements", ["setl_id"])
    op.create_index("ix_stock_movements_item", "stock_movements", ["item_id", "id"])
    op.create_table(
        "stock_trace_codes",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("movement_id", _ID, nullable=False),
        sa.Column("drug_trac_codg", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["movement_id"],
            ["stock_movements.id"],
            name=op.f("fk_stock_trace_codes_movement_id_stock_movements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_trace_codes")),
    )
    op.create_index("ix_stock_trace_codes_movement", "stock_trace_codes", ["movement_id"])
    op.create_index("ix_stock_trace_codes_code", "stock_trace_codes", ["drug_trac_codg"])


def downgrade() -> None:
    op.drop_table("stock_trace_codes")
    op.drop_table("stock_movements")
    op.drop_table("stock_items")
