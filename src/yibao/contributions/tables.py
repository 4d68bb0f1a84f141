"""Table of contribution records (缴费记录)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db.base import Base
from yibao.db.types import BigIntPK, UTCDateTime


class Contribution(Base):
    __tablename__ = "contributions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    month: Mapped[str] = mapped_column(String(7))  # 费款所属期 YYYY-MM
    base_fen: Mapped[int] = mapped_column(BigInteger)
    employer_fen: Mapped[int] = mapped_column(BigInteger)
    personal_fen: Mapped[int] = mapped_column(BigInteger)
    credited_fen: Mapped[int] = mapped_column(BigInteger)  # 划入金额
    arrived_on: Mapped[date] = mapped_column(Date)  # 到账日期
    status: Mapped[str] = mapped_column(String(10))
    ledger_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_entries.id"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("person_id", "month", name="uq_contributions_person_month"),
        CheckConstraint(
            "base_fen >= 0 AND employer_fen >= 0 AND personal_fen >= 0 AND credited_fen >= 0",
            name="amounts_non_negative",
        ),
        CheckConstraint("status IN ('normal', 'arrears', 'backpaid')", name="status"),
    )
