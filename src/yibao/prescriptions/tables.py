"""电子处方线下流转授权: one row per authorisation a pharmacy asked for (revoked ones kept)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db.base import Base
from yibao.db.types import BigIntPK, UTCDateTime


class PrescriptionAuthorisation(Base):
    __tablename__ = "prescription_authorisations"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    auth_no: Mapped[str] = mapped_column(String(30), unique=True)
    hi_rxno: Mapped[str] = mapped_column(String(40))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    fixmedins_code: Mapped[str] = mapped_column(String(12))  # the pharmacy
    prsc_fixmedins_code: Mapped[str] = mapped_column(String(12))  # the prescribing hospital
    prescribed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rx_trace_code: Mapped[str] = mapped_column(String(64), default="")
    phar_name: Mapped[str] = mapped_column(String(50), default="")  # the reviewing pharmacist
    status: Mapped[str] = mapped_column(String(10), default="active")
    authorised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    msgid: Mapped[str] = mapped_column(String(40), unique=True)

    __table_args__ = (
        CheckConstraint("status IN ('active', 'revoked')", name="status"),
        # One pharmacy at a time per prescription: the database refuses a second active one.
        Index(
            "uq_prescription_authorisations_active",
            "hi_rxno",
            unique=True,
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
    )
