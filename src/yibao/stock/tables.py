"""Tables of 进销存: an institution's items with their stock, the movements that made it (append
only: a deletion or a 2601 adds a compensating movement and marks the original, never removes
it), and the traceability codes (追溯码) each movement carried."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db.base import Base
from yibao.db.types import BigIntPK, UTCDateTime


class StockItem(Base):
    """An institution's item (its own `fixmedins_hilist_id`) and its stock now, in units
    (ten-thousandths of the item's unit)."""

    __tablename__ = "stock_items"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    fixmedins_code: Mapped[str] = mapped_column(String(12))
    fixmedins_hilist_id: Mapped[str] = mapped_column(String(30))
    fixmedins_hilist_name: Mapped[str] = mapped_column(String(200))
    med_list_codg: Mapped[str] = mapped_column(String(50))
    rx_flag: Mapped[str] = mapped_column(String(3))
    stock_units: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("fixmedins_code", "fixmedins_hilist_id", name="uq_stock_items_item"),
    )


class StockMovement(Base):
    """One record as sent (3501 … 3506) or a compensation (a 3507 deletion, a 2601): what it
    did to the item's stock and the stock after it. `negative_reason` is required by the
    database when the stock after is below zero."""

    __tablename__ = "stock_movements"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("stock_items.id"))
    fixmedins_code: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(16))
    change_type: Mapped[str | None] = mapped_column(String(6), nullable=True)
    fixmedins_bchno: Mapped[str] = mapped_column(String(30))
    quantity_units: Mapped[int] = mapped_column(BigInteger)
    delta_units: Mapped[int] = mapped_column(BigInteger)
    balance_units: Mapped[int] = mapped_column(BigInteger)
    negative_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    msgid: Mapped[str] = mapped_column(String(30))
    setl_id: Mapped[str | None] = mapped_column(String(30), nullable=True)
    mdtrt_sn: Mapped[str | None] = mapped_column(String(30), nullable=True)
    psn_no: Mapped[str | None] = mapped_column(String(30), nullable=True)
    fields: Mapped[str] = mapped_column(Text)
    # The movement a compensation undoes; on the original, when and by which message.
    undoes_id: Mapped[int | None] = mapped_column(ForeignKey("stock_movements.id"), nullable=True)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    undone_by_msgid: Mapped[str | None] = mapped_column(String(30), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(
            "balance_units >= 0 OR negative_reason IS NOT NULL", name="negative_needs_reason"
        ),
        CheckConstraint(
            "kind IN ('inventory', 'change', 'purchase', 'purchase_return', 'sale', "
            "'sale_return', 'deletion')",
            name="kind",
        ),
        Index("ix_stock_movements_code_kind", "fixmedins_code", "kind", "id"),
        Index("ix_stock_movements_code_bchno", "fixmedins_code", "fixmedins_bchno"),
        Index("ix_stock_movements_msgid", "msgid"),
        Index("ix_stock_movements_setl_id", "setl_id"),
        Index("ix_stock_movements_item", "item_id", "id"),
    )


class StockTraceCode(Base):
    """A traceability code (药品追溯码 `drug_trac_codg`) as sent with a movement."""

    __tablename__ = "stock_trace_codes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    movement_id: Mapped[int] = mapped_column(ForeignKey("stock_movements.id"))
    drug_trac_codg: Mapped[str] = mapped_column(String(100))

    __table_args__ = (
        Index("ix_stock_trace_codes_movement", "movement_id"),
        Index("ix_stock_trace_codes_code", "drug_trac_codg"),
    )
