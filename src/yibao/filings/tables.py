"""Tables of 异地就医备案: the 备案 themselves, their documents, and each region's rules."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db.base import Base
from yibao.db.types import BigIntPK, UTCDateTime


class FilingRow(Base):
    """One 备案. `treatment_admdvs` is not a foreign key: the treatment region is usually another
    deployment's, absent from this database's `regions`."""

    __tablename__ = "filings"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    kind: Mapped[str] = mapped_column(String(20))
    insured_admdvs: Mapped[str] = mapped_column(ForeignKey("regions.admdvs"))
    treatment_admdvs: Mapped[str] = mapped_column(String(6))
    treatment_name: Mapped[str] = mapped_column(String(60))
    begins: Mapped[date] = mapped_column(Date)
    ends: Mapped[date | None] = mapped_column(Date, nullable=True)
    state: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(12))
    # 转诊单 (referral), 上传的证明 (upload) or 个人承诺 (declaration); see filing_documents.
    document_kind: Mapped[str | None] = mapped_column(String(12), nullable=True)
    document_note: Mapped[str] = mapped_column(String(200), default="")
    referral_medins_code: Mapped[str | None] = mapped_column(String(30), nullable=True)
    phone_masked: Mapped[str | None] = mapped_column(String(11), nullable=True)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("filings.id"), nullable=True)
    # 待遇申报明细流水号 answered to institutions (2501) and asked back on a 2502.
    serial: Mapped[str] = mapped_column(String(30), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(60))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_by: Mapped[str | None] = mapped_column(String(60), nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)

    __table_args__ = (
        CheckConstraint(
            "kind IN ('retiree_resettled', 'long_term_resident', 'working_away', 'referral',"
            " 'emergency', 'other_temporary')",
            name="kind",
        ),
        CheckConstraint("state IN ('active', 'cancelled', 'changed')", name="state"),
        CheckConstraint("channel IN ('app', 'counter', 'institution')", name="channel"),
        CheckConstraint(
            "document_kind IS NULL OR document_kind IN ('referral', 'upload', 'declaration')",
            name="document_kind",
        ),
        CheckConstraint("ends IS NULL OR ends >= begins", name="dates"),
        Index("ix_filings_person_state", "person_id", "state"),
    )


class FilingDocument(Base):
    """An uploaded proof of residence or work; the file lives outside the web root
    (`kernel.uploads.DocumentStore`, as 家庭共济's documents)."""

    __tablename__ = "filing_documents"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    filing_id: Mapped[int] = mapped_column(ForeignKey("filings.id"), index=True)
    label: Mapped[str] = mapped_column(String(100))
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_name: Mapped[str] = mapped_column(String(120), unique=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("size_bytes > 0", name="size_positive"),)


class FilingRules(Base):
    """A region's 备案 rules; a region without a row has `domain.RegionFilingRules()`."""

    __tablename__ = "filing_rules"

    admdvs: Mapped[str] = mapped_column(ForeignKey("regions.admdvs"), primary_key=True)
    allowed_kinds: Mapped[str] = mapped_column(String(200))  # comma-separated FilingKind values
    change_after_months: Mapped[int] = mapped_column(Integer)
    temporary_months: Mapped[int] = mapped_column(Integer)
    emergency_backdate_days: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(60))

    __table_args__ = (
        CheckConstraint("change_after_months BETWEEN 0 AND 60", name="change_after"),
        CheckConstraint("temporary_months BETWEEN 6 AND 24", name="temporary_months"),
        CheckConstraint("emergency_backdate_days BETWEEN 0 AND 365", name="backdate"),
    )
