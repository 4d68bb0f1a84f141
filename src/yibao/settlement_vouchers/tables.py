"""电子结算凭证: one row per version of a settlement's voucher (the history is kept)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db.base import Base
from yibao.db.types import BigIntPK, UTCDateTime


class SettlementVoucher(Base):
    __tablename__ = "settlement_vouchers"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlements.id"))
    setl_id: Mapped[str] = mapped_column(String(30))
    # The settlement's person: the only person who may read it.
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    fixmedins_code: Mapped[str] = mapped_column(String(12))
    version: Mapped[int] = mapped_column(Integer)
    bill_code: Mapped[str] = mapped_column(String(50))
    bill_no: Mapped[str] = mapped_column(String(50))
    bill_chkcode: Mapped[str] = mapped_column(String(20))
    bill_time: Mapped[datetime] = mapped_column(UTCDateTime)
    biller: Mapped[str] = mapped_column(String(50))
    rechker: Mapped[str] = mapped_column(String(50))
    medfee_sumamt_fen: Mapped[int] = mapped_column(BigInteger)
    fund_pay_sumamt_fen: Mapped[int] = mapped_column(BigInteger)
    acct_pay_fen: Mapped[int] = mapped_column(BigInteger)
    acct_mulaid_pay_fen: Mapped[int] = mapped_column(BigInteger)
    psn_cash_pay_fen: Mapped[int] = mapped_column(BigInteger)
    # The document as sent (checked, never rewritten), or None when only the data was sent.
    document: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    document_type: Mapped[str | None] = mapped_column(String(20), nullable=True)
    document_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    digest: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(200), default="")
    msgid: Mapped[str] = mapped_column(String(40), unique=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("settlement_id", "version", name="uq_settlement_vouchers_version"),
        CheckConstraint("version >= 1", name="version"),
        CheckConstraint(
            "medfee_sumamt_fen >= 0 AND fund_pay_sumamt_fen >= 0 AND acct_pay_fen >= 0"
            " AND acct_mulaid_pay_fen >= 0 AND psn_cash_pay_fen >= 0",
            name="amounts_non_negative",
        ),
        CheckConstraint(
            "document_type IS NULL OR document_type IN"
            " ('application/pdf', 'image/jpeg', 'image/png')",
            name="document_type",
        ),
    )
