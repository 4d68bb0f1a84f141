"""The table of hotline calls: one row per call, written by `calls` only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db.base import Base
from yibao.db.types import BigIntPK, UTCDateTime


class HotlineCall(Base):
    __tablename__ = "hotline_calls"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    # The reference a telephony adapter carries between events (random; says nothing of the caller).
    call_ref: Mapped[str] = mapped_column(String(40), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    language: Mapped[str] = mapped_column(String(5))
    step: Mapped[str] = mapped_column(String(20))
    # The IVR's state between events: plain data with no ID number and no password in it.
    state_json: Mapped[str] = mapped_column(Text)
    menu_path: Mapped[str] = mapped_column(Text, default="")
    transcript_json: Mapped[str] = mapped_column(Text, default="[]")
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True)
    identified_by: Mapped[str | None] = mapped_column(String(10), nullable=True)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    agent_staff_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)

    __table_args__ = (
        Index("ix_hotline_calls_started_at", "started_at"),
        Index("ix_hotline_calls_queued_at", "queued_at"),
    )
