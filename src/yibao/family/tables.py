"""Tables of 家庭共济: applications, authorisations with their history and documents, account
freezes for misuse, and contributions paid for a relative."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db.base import Base
from yibao.db.types import BigIntPK, UTCDateTime

_LIVE = "status IN ('applied', 'pending_consent', 'under_review', 'active', 'paused')"


class MutualAidApplication(Base):
    """One submission by an authoriser (online) or entered for them at the counter."""

    __tablename__ = "mutual_aid_applications"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    authoriser_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    clerk_staff_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    clerk_name: Mapped[str | None] = mapped_column(String(50), nullable=True)
    status: Mapped[str] = mapped_column(String(12))  # draft | submitted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        CheckConstraint("channel IN ('online', 'counter')", name="channel"),
        CheckConstraint("status IN ('draft', 'submitted')", name="status"),
    )


class MutualAidAuthorisation(Base):
    """授权: the authoriser's account may pay for one beneficiary. Locked by settlement's hook."""

    __tablename__ = "mutual_aid_authorisations"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("mutual_aid_applications.id"))
    authoriser_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    beneficiary_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    relation: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(16))
    quota_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    consent_required: Mapped[bool] = mapped_column(Boolean)
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(50), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(
            "relation IN ('spouse', 'parent', 'child', 'sibling', 'grandparent', 'grandchild')",
            name="relation",
        ),
        CheckConstraint(
            "status IN ('applied', 'pending_consent', 'under_review', 'active', 'paused',"
            " 'revoked', 'ended', 'rejected')",
            name="status",
        ),
        CheckConstraint("quota_fen IS NULL OR quota_fen >= 0", name="quota_non_negative"),
        CheckConstraint("authoriser_person_id <> beneficiary_person_id", name="not_self"),
        CheckConstraint(
            "status NOT IN ('active', 'paused') OR activated_at IS NOT NULL", name="active_has_time"
        ),
        # One live authorisation per pair: a second application waits for the first to close.
        Index(
            "uq_mutual_aid_authorisations_live_pair",
            "authoriser_person_id",
            "beneficiary_person_id",
            unique=True,
            sqlite_where=text(_LIVE),
            postgresql_where=text(_LIVE),
        ),
        Index("ix_mutual_aid_authorisations_beneficiary", "beneficiary_person_id", "status"),
        Index("ix_mutual_aid_authorisations_authoriser", "authoriser_person_id", "status"),
    )


class MutualAidEvent(Base):
    """Each status an authorisation reached, with its time, who and why (shown to both sides)."""

    __tablename__ = "mutual_aid_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    authorisation_id: Mapped[int] = mapped_column(
        ForeignKey("mutual_aid_authorisations.id"), index=True
    )
    action: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(60))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class MutualAidDocument(Base):
    """An uploaded ID photo or proof of relationship; the file lives outside the web root."""

    __tablename__ = "mutual_aid_documents"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    authorisation_id: Mapped[int] = mapped_column(
        ForeignKey("mutual_aid_authorisations.id"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_name: Mapped[str] = mapped_column(String(120), unique=True)
    uploaded_by: Mapped[str] = mapped_column(String(60))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("kind IN ('id_photo', 'relation_proof')", name="kind"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
    )


class AccountFreeze(Base):
    """冻结: staff freeze an account for misuse; a second staff member approves the unfreeze."""

    __tablename__ = "account_freezes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("personal_accounts.id"))
    reason: Mapped[str] = mapped_column(Text)
    frozen_by: Mapped[str] = mapped_column(String(60))
    frozen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    unfreeze_requested_by: Mapped[str | None] = mapped_column(String(60), nullable=True)
    unfreeze_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    unfreeze_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    unfrozen_by: Mapped[str | None] = mapped_column(String(60), nullable=True)
    unfrozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(20))

    __table_args__ = (
        CheckConstraint("status IN ('frozen', 'unfreeze_requested', 'unfrozen')", name="status"),
        # Four eyes: the one who approves the unfreeze is not the one who asked for it.
        CheckConstraint(
            "unfrozen_by IS NULL OR unfrozen_by <> unfreeze_requested_by", name="second_approver"
        ),
    )


class RelativeContribution(Base):
    """居民医保代缴: the authoriser's account paid a relative's yearly resident contribution."""

    __tablename__ = "relative_contributions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    receipt_no: Mapped[str] = mapped_column(String(32), unique=True)
    authorisation_id: Mapped[int] = mapped_column(ForeignKey("mutual_aid_authorisations.id"))
    payer_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    beneficiary_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    year: Mapped[int] = mapped_column(Integer)
    admdvs: Mapped[str] = mapped_column(String(6))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    ledger_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), unique=True)
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("beneficiary_person_id", "year", name="uq_relative_contributions_year"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
    )
