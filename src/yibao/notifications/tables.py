"""Tables: the outbox of side effects, and the in-app notices a person reads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db.base import Base
from yibao.db.types import BigIntPK, UTCDateTime


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(10))
    dedup_key: Mapped[str] = mapped_column(String(160), unique=True)
    # No foreign key (migration 0015_settlement_write_cost): the person is read in the writing
    # use case's own transaction and persons are never deleted; the key's check took a row lock
    # on persons, a WAL record on every settlement.
    person_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # SMS can go to a phone that belongs to nobody yet (registration): kept encrypted.
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    phone_masked: Mapped[str | None] = mapped_column(String(11), nullable=True)
    subject: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    # The text to send when it holds a secret (an SMS code), encrypted (SEALED_BODY_PURPOSE);
    # `body` then holds words without it. Erased once delivered or given up (migration 0011).
    body_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        CheckConstraint("channel IN ('sms', 'inapp')", name="channel"),
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
    )


class Notice(Base):
    """消息: what a person reads in the app."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    subject: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id"), unique=True, nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (Index("ix_notices_person_created", "person_id", "created_at"),)


class NoticePreference(Base):
    """What a person asked to receive beyond the in-app notice: an SMS of each credit to their
    account (划账短信提醒). No row: the defaults (off)."""

    __tablename__ = "notice_preferences"

    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    credit_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
