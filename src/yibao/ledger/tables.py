"""Tables of the ledger: personal accounts and their append-only entries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db.base import Base
from yibao.db.types import BigIntPK, UTCDateTime


class PersonalAccount(Base):
    __tablename__ = "personal_accounts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), unique=True)
    balance_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(10), default="active")
    frozen_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("balance_fen >= 0", name="balance_non_negative"),
        CheckConstraint("status IN ('active', 'frozen')", name="status"),
        CheckConstraint("status = 'active' OR frozen_reason IS NOT NULL", name="frozen_has_reason"),
    )


class LedgerEntry(Base):
    """One append-only change to an account. Triggers refuse UPDATE and DELETE."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("personal_accounts.id"))
    kind: Mapped[str] = mapped_column(String(32))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    balance_after_fen: Mapped[int] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    # Who was on the other side: an institution code, an employer, a staff member, a relative.
    counterparty: Mapped[str] = mapped_column(String(120))
    counterparty_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # For whom the money was spent, when it was not the holder (家庭共济, 代缴).
    beneficiary_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("persons.id"), nullable=True
    )
    # At most one reversal per entry: a partial unique index (migration 0007), since nearly every
    # entry has none and a plain UNIQUE would index a NULL for each of them.
    reverses_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_entries.id"), nullable=True
    )
    # The business record behind the entry (a settlement, a contribution), for drill-down.
    source_type: Mapped[str | None] = mapped_column(String(30), nullable=True)
    source_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("amount_fen <> 0", name="amount_non_zero"),
        CheckConstraint("balance_after_fen >= 0", name="balance_after_non_negative"),
        CheckConstraint(
            "kind IN ('contribution_credit', 'settlement_debit', 'mutual_aid_debit', 'reversal',"
            " 'staff_adjustment', 'relative_contribution_debit', 'interest_credit')",
            name="kind",
        ),
        CheckConstraint(
            "(kind NOT IN ('contribution_credit', 'interest_credit') OR amount_fen > 0) AND"
            " (kind NOT IN ('settlement_debit', 'mutual_aid_debit', 'relative_contribution_debit')"
            " OR amount_fen < 0)",
            name="amount_sign",
        ),
        CheckConstraint(
            "kind <> 'reversal' OR reverses_entry_id IS NOT NULL", name="reversal_names_entry"
        ),
        CheckConstraint(
            "kind <> 'staff_adjustment' OR reason IS NOT NULL", name="adjustment_has_reason"
        ),
        # Keyset pagination of one account's history, newest first. On PostgreSQL it carries kind
        # and amount too (migration 0008), so the overview's sums and 消费记录's counts are
        # index-only scans instead of a heap page per entry.
        Index(
            "ix_ledger_entries_account_created",
            "account_id",
            "created_at",
            "id",
            postgresql_include=["kind", "amount_fen"],
        ),
        Index(
            "uq_ledger_entries_reverses_entry_id",
            "reverses_entry_id",
            unique=True,
            postgresql_where=text("reverses_entry_id IS NOT NULL"),
            sqlite_where=text("reverses_entry_id IS NOT NULL"),
        ),
    )
