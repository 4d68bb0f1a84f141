"""Tables of claims (报销), their steps and documents, disputes, and adjustment proposals."""

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


class Claim(Base):
    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    # Sent by the client with the form: a retried or double-tapped submit finds the first claim.
    request_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(15))
    fixmedins_name: Mapped[str] = mapped_column(String(100))
    fixmedins_code: Mapped[str | None] = mapped_column(String(12), nullable=True)
    med_type: Mapped[str] = mapped_column(String(2))
    begin_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    diagnosis: Mapped[str] = mapped_column(String(200))
    not_settled_reason: Mapped[str] = mapped_column(String(30))
    medfee_sumamt_fen: Mapped[int] = mapped_column(BigInteger)
    fulamt_ownpay_amt_fen: Mapped[int] = mapped_column(BigInteger)
    # Set by the reviewer at approval, with the fund's share computed from them.
    overlmt_selfpay_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    preselfpay_amt_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    inscp_scp_amt_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    act_pay_dedc_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    hifp_pay_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    psn_part_amt_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reject_code: Mapped[str | None] = mapped_column(String(3), nullable=True)
    reject_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    payment_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # How many times the person has corrected and resubmitted it.
    round: Mapped[int] = mapped_column(Integer, default=1)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("person_id", "request_key", name="uq_claims_person_request_key"),
        CheckConstraint(
            "status IN ('submitted', 'under_review', 'approved', 'rejected', 'paid', 'withdrawn')",
            name="status",
        ),
        CheckConstraint(
            "medfee_sumamt_fen > 0 AND fulamt_ownpay_amt_fen >= 0"
            " AND fulamt_ownpay_amt_fen <= medfee_sumamt_fen",
            name="amounts",
        ),
        CheckConstraint("end_date >= begin_date", name="dates"),
        CheckConstraint(
            "status NOT IN ('approved', 'paid') OR (hifp_pay_fen IS NOT NULL AND"
            " psn_part_amt_fen IS NOT NULL AND hifp_pay_fen + psn_part_amt_fen = medfee_sumamt_fen)",
            name="approved_has_share",
        ),
        CheckConstraint(
            "status <> 'rejected' OR reject_code IS NOT NULL", name="rejected_has_reason"
        ),
        CheckConstraint("status <> 'paid' OR payment_ref IS NOT NULL", name="paid_has_reference"),
        Index("ix_claims_person_submitted", "person_id", "submitted_at"),
        Index("ix_claims_status_submitted", "status", "submitted_at"),
    )


class ClaimStep(Base):
    """One step of 报销进度: when, what, who (a person, or staff)."""

    __tablename__ = "claim_steps"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"))
    event: Mapped[str] = mapped_column(String(15))
    status: Mapped[str] = mapped_column(String(15))
    actor_type: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[int] = mapped_column(BigInteger)
    actor_name: Mapped[str] = mapped_column(String(100))
    office: Mapped[str | None] = mapped_column(String(100), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("actor_type IN ('person', 'staff')", name="actor_type"),
        Index("ix_claim_steps_claim", "claim_id", "at", "id"),
    )


class ClaimAttachment(Base):
    """An uploaded document's metadata; the bytes live under var/uploads with a random name."""

    __tablename__ = "claim_attachments"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    storage_name: Mapped[str] = mapped_column(String(40), unique=True)
    content_type: Mapped[str] = mapped_column(String(30))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(100))
    round: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("kind IN ('invoice', 'itemised_list', 'diagnosis')", name="kind"),
        CheckConstraint(
            "content_type IN ('image/jpeg', 'image/png', 'application/pdf')", name="content_type"
        ),
    )


class Dispute(Base):
    """争议: a record or a look-up the person does not recognise, for staff to examine."""

    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    kind: Mapped[str] = mapped_column(String(12))
    ledger_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_entries.id"), nullable=True
    )
    # No foreign key: audit records may move to an archive while the case stays.
    audit_record_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # What the person saw when disputing (institution, amount, time, setl_id), kept as it was.
    details_json: Mapped[str] = mapped_column(Text)
    statement: Mapped[str] = mapped_column(Text)
    froze_account: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10))
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    resolution_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolved_by_staff_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    resolved_by_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        CheckConstraint("kind IN ('consumption', 'lookup')", name="kind"),
        CheckConstraint("status IN ('open', 'resolved')", name="status"),
        CheckConstraint(
            "(kind = 'consumption' AND ledger_entry_id IS NOT NULL)"
            " OR (kind = 'lookup' AND audit_record_id IS NOT NULL)",
            name="names_its_record",
        ),
        CheckConstraint("status <> 'resolved' OR outcome IS NOT NULL", name="resolved_has_outcome"),
        Index("ix_disputes_person_created", "person_id", "created_at"),
        Index("ix_disputes_status_created", "status", "created_at"),
    )


class AdjustmentProposal(Base):
    """Maker-checker: a proposed staff adjustment or reversal, posted only when another approves."""

    __tablename__ = "adjustment_proposals"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("personal_accounts.id"))
    kind: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reverses_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_entries.id"), nullable=True
    )
    reason: Mapped[str] = mapped_column(Text)
    proposed_by_staff_id: Mapped[int] = mapped_column(BigInteger)
    proposed_by_name: Mapped[str] = mapped_column(String(100))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10))
    decided_by_staff_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    decided_by_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    ledger_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_entries.id"), unique=True, nullable=True
    )

    __table_args__ = (
        CheckConstraint("kind IN ('staff_adjustment', 'reversal')", name="kind"),
        CheckConstraint("status IN ('proposed', 'approved', 'rejected')", name="status"),
        # The database itself refuses a proposal decided by the one who made it.
        CheckConstraint(
            "decided_by_staff_id IS NULL OR decided_by_staff_id <> proposed_by_staff_id",
            name="no_self_approval",
        ),
        CheckConstraint(
            "kind <> 'staff_adjustment' OR (amount_fen IS NOT NULL AND amount_fen <> 0)",
            name="adjustment_has_amount",
        ),
        CheckConstraint(
            "kind <> 'reversal' OR reverses_entry_id IS NOT NULL", name="reversal_names_entry"
        ),
        CheckConstraint(
            "status <> 'approved' OR ledger_entry_id IS NOT NULL", name="approved_is_posted"
        ),
        Index("ix_adjustment_proposals_status", "status", "proposed_at"),
    )
