"""Tables: registered kiosks, the sessions people open at them, and their print jobs."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db.base import Base
from yibao.db.types import BigIntPK, UTCDateTime


class Kiosk(Base):
    """自助查询机. The key is shown once at registration; only its SHA-256 is kept."""

    __tablename__ = "kiosks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    place: Mapped[str] = mapped_column(String(60))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    registered_by: Mapped[str] = mapped_column(String(60))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # What the card-reader bridge last reported: the card in the reader and the printer.
    card_state: Mapped[str] = mapped_column(String(10), default="none")
    card_message: Mapped[str | None] = mapped_column(String(200), nullable=True)
    card_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True)
    card_no: Mapped[str | None] = mapped_column(String(20), nullable=True)
    printer_state: Mapped[str | None] = mapped_column(String(20), nullable=True)
    printer_problem: Mapped[str | None] = mapped_column(String(60), nullable=True)

    __table_args__ = (
        CheckConstraint(
            "card_state IN ('none', 'present', 'refused', 'no_reader')", name="card_state"
        ),
    )


class KioskSession(Base):
    """One person's use of one kiosk; the kiosk browser's cookie holds a token whose SHA-256 is
    `token_hash`."""

    __tablename__ = "kiosk_sessions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kiosk_id: Mapped[str] = mapped_column(ForeignKey("kiosks.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    method: Mapped[str] = mapped_column(String(10))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_on: Mapped[date] = mapped_column(Date)  # China's calendar day, for "today's sessions"
    last_touch_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)

    __table_args__ = (
        CheckConstraint("method IN ('card', 'voucher', 'sms')", name="method"),
        Index("ix_kiosk_sessions_kiosk_day", "kiosk_id", "opened_on"),
    )


class KioskPrintJob(Base):
    """A 个人账户结算单 the person asked the kiosk to print; the PDF is made when the bridge
    fetches it, never stored."""

    __tablename__ = "kiosk_print_jobs"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    kiosk_id: Mapped[str] = mapped_column(ForeignKey("kiosks.id"))
    session_id: Mapped[int] = mapped_column(ForeignKey("kiosk_sessions.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    since: Mapped[date] = mapped_column(Date)
    until: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10), default="queued")
    message: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(
            "state IN ('queued', 'sent', 'printed', 'failed', 'cancelled')", name="state"
        ),
        Index("ix_kiosk_print_jobs_kiosk_state", "kiosk_id", "state"),
    )
