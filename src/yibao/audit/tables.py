"""Tables of the audit trail: the chained records, the chain head, and the archives."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db.base import Base
from yibao.db.types import BigIntPK, UTCDateTime


class AuditRecord(Base):
    """One append-only, hash-chained record. Triggers refuse UPDATE, and DELETE of a record
    that no archive covers."""

    __tablename__ = "audit_records"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_type: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[str] = mapped_column(String(64))
    # In clear for administrators; masked on the person's 查询记录.
    actor_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(30))
    office: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60))
    # No foreign key: the trail outlives any row it speaks of, and must never block a change.
    subject_person_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reason: Mapped[str] = mapped_column(String(200))
    detail_json: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (
        CheckConstraint("seq > 0", name="seq_positive"),
        CheckConstraint(
            "actor_type IN ('staff', 'partner', 'person', 'system')", name="actor_type"
        ),
        # 查询记录: one person's look-ups, newest first.
        Index("ix_audit_records_subject", "subject_person_id", "occurred_at", "id"),
        Index("ix_audit_records_occurred", "occurred_at"),
    )


class AuditChainHead(Base):
    """One row: the last seq and hash. Appends lock it, so concurrent writers never fork the chain."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)


class AuditArchive(Base):
    """An export of the oldest records; its last hash anchors what stays in the database."""

    __tablename__ = "audit_archives"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    from_seq: Mapped[int] = mapped_column(BigInteger)
    through_seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    through_hash: Mapped[str] = mapped_column(String(64))
    record_count: Mapped[int] = mapped_column(BigInteger)
    file_name: Mapped[str] = mapped_column(String(200))
    file_sha256: Mapped[str] = mapped_column(String(64))
    archived_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("through_seq >= from_seq", name="range"),)
