"""Tables of the detail audit: the versions of each rule (maker-checker), the checks made (a 3101,
a 3102 or a settlement) with their findings, and what the institution did about each (3103)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db.base import Base
from yibao.db.types import BigIntPK, UTCDateTime


class AuditRuleVersion(Base):
    """One version of a rule: proposed by one staff member, approved (or rejected) by another,
    in force from `effective_from`. Versions are never edited once decided."""

    __tablename__ = "audit_rule_versions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    rule_code: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    med_list_codg: Mapped[str] = mapped_column(String(50))
    severity: Mapped[str] = mapped_column(String(5))
    name: Mapped[str] = mapped_column(String(100))
    params_json: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean)
    effective_from: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10))
    proposed_by_staff_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    proposed_by_name: Mapped[str] = mapped_column(String(100))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by_staff_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    decided_by_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("rule_code", "version"),
        CheckConstraint("status IN ('proposed', 'approved', 'rejected')", name="status"),
        CheckConstraint("severity IN ('warn', 'block')", name="severity"),
        CheckConstraint(
            "decided_by_staff_id IS NULL OR proposed_by_staff_id IS NULL"
            " OR decided_by_staff_id <> proposed_by_staff_id",
            name="no_self_approval",
        ),
    )


class AuditCheck(Base):
    """One audit of a bill: a 3101 (事前), a 3102 (事中) or a settlement (2207/2102)."""

    __tablename__ = "audit_checks"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(String(40), unique=True)
    trig: Mapped[str] = mapped_column(String(10))  # before (3101), during (3102), settlement
    fixmedins_code: Mapped[str] = mapped_column(String(12))
    psn_no: Mapped[str] = mapped_column(String(30))
    mdtrt_id: Mapped[str] = mapped_column(String(40))
    setl_id: Mapped[str | None] = mapped_column(String(30), nullable=True, index=True)
    msgid: Mapped[str] = mapped_column(String(40))
    rules_applied: Mapped[int] = mapped_column(Integer)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_audit_checks_institution_psn", "fixmedins_code", "psn_no"),)


class AuditFinding(Base):
    """A finding as it was told, with the rule version that made it; 3103 adds the disposal."""

    __tablename__ = "audit_findings"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    jr_id: Mapped[str] = mapped_column(String(40), unique=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("audit_checks.id"), index=True)
    rule_version_id: Mapped[int] = mapped_column(ForeignKey("audit_rule_versions.id"))
    rule_code: Mapped[str] = mapped_column(String(20))
    rule_version: Mapped[int] = mapped_column(Integer)
    rule_name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(5))
    line_ids: Mapped[str] = mapped_column(Text)  # JSON list of feedetl_sn / rx_id
    message: Mapped[str] = mapped_column(Text)
    vola_amt_fen: Mapped[int] = mapped_column(BigInteger)
    dspo_way: Mapped[str | None] = mapped_column(String(1), nullable=True)
    dspo_way_rea: Mapped[str | None] = mapped_column(String(500), nullable=True)
    dspo_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        CheckConstraint("severity IN ('warn', 'block')", name="severity"),
        CheckConstraint("dspo_way IS NULL OR dspo_way IN ('1', '2')", name="dspo_way"),
    )
