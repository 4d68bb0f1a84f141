"""Tables of crediting runs: the run (a durable job with its cursor), its lines (the staging
table a file is copied into, and each line's outcome), its totals per region and employer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db.base import Base
from yibao.db.types import BigIntPK, UTCDateTime


class CreditingRun(Base):
    __tablename__ = "crediting_runs"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    month: Mapped[str] = mapped_column(String(7))  # 费款所属期 YYYY-MM being credited
    region: Mapped[str | None] = mapped_column(String(6), nullable=True)  # None: every region
    source: Mapped[str] = mapped_column(Text)  # the file or directory given
    # JSON list of [name, size, mtime_ns] of each file, checked again when a run resumes loading.
    files: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12))
    # 1 while the run is open (loading … totals), NULL otherwise: UNIQUE lets one run be open.
    open_slot: Mapped[int | None] = mapped_column(Integer, nullable=True, unique=True)
    # The cursor: the file and byte offset loading goes on from, the line number there, and the
    # last line id resolved (loading) or credited (crediting).
    file_index: Mapped[int] = mapped_column(Integer, default=0)
    file_offset: Mapped[int] = mapped_column(BigInteger, default=0)
    file_line: Mapped[int] = mapped_column(Integer, default=0)
    line_cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    lines_total: Mapped[int] = mapped_column(BigInteger, default=0)
    lines_done: Mapped[int] = mapped_column(BigInteger, default=0)
    credited_count: Mapped[int] = mapped_column(BigInteger, default=0)
    credited_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    unchanged_count: Mapped[int] = mapped_column(BigInteger, default=0)
    refused_count: Mapped[int] = mapped_column(BigInteger, default=0)
    proposed_by: Mapped[str] = mapped_column(String(64))
    approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        CheckConstraint(
            "state IN ('proposed', 'loading', 'deduping', 'retirees', 'crediting', 'totals',"
            " 'done', 'rejected')",
            name="state",
        ),
        CheckConstraint("open_slot IS NULL OR open_slot = 1", name="open_slot"),
        CheckConstraint("approved_by IS NULL OR approved_by <> proposed_by", name="four_eyes"),
    )


class CreditingLine(Base):
    """One line of a run: a file line (its ID number only as keyed hash and mask), or a retiree
    the run credits from enrolment."""

    __tablename__ = "crediting_lines"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crediting_runs.id"))
    origin: Mapped[str] = mapped_column(String(8))
    file_index: Mapped[int] = mapped_column(Integer, default=0)
    line_no: Mapped[int] = mapped_column(Integer, default=0)
    id_number_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    id_number_masked: Mapped[str | None] = mapped_column(String(18), nullable=True)
    month: Mapped[str | None] = mapped_column(String(7), nullable=True)
    base_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    employer_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    personal_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    person_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    account_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    admdvs: Mapped[str | None] = mapped_column(String(6), nullable=True)
    employer_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    outcome: Mapped[str] = mapped_column(String(10))
    refusal: Mapped[str | None] = mapped_column(String(20), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    credited_fen: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        Index("ix_crediting_lines_run_id", "run_id", "id"),
        CheckConstraint(
            "outcome IN ('new', 'checked', 'refused', 'credited', 'unchanged', 'arrears')",
            name="outcome",
        ),
        CheckConstraint("origin IN ('file', 'retiree')", name="origin"),
        CheckConstraint("outcome <> 'refused' OR refusal IS NOT NULL", name="refusal_reason"),
        # Every line is updated once with its outcome: room on its page keeps that update HOT
        # (no new index entries) on PostgreSQL.
        {"postgresql_with": {"fillfactor": 60}},
    )


class CreditingTotal(Base):
    """Counts and sums of a finished run per region and employer (employer NULL: retirees, or
    refused lines of nobody known)."""

    __tablename__ = "crediting_totals"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crediting_runs.id"), index=True)
    admdvs: Mapped[str | None] = mapped_column(String(6), nullable=True)
    employer_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    origin: Mapped[str] = mapped_column(String(8))
    lines: Mapped[int] = mapped_column(BigInteger)
    credited_count: Mapped[int] = mapped_column(BigInteger)
    credited_fen: Mapped[int] = mapped_column(BigInteger)
    unchanged_count: Mapped[int] = mapped_column(BigInteger)
    refused_count: Mapped[int] = mapped_column(BigInteger)


class InterestRate(Base):
    """年度结息利率: the yearly interest rate a region's rules pay on personal accounts. A region
    without a row pays none (the default)."""

    __tablename__ = "crediting_interest_rates"

    admdvs: Mapped[str] = mapped_column(String(6), primary_key=True)
    # Basis points a year (1.5% = 150): exact, and every rate a region has published fits.
    rate_bp: Mapped[int] = mapped_column(Integer)
    set_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("rate_bp > 0 AND rate_bp <= 10000", name="rate_bp"),)


class YearEndRun(Base):
    """A year-end run (年度结转): interest on every account of the regions with a rate, as a
    durable job with its cursor (the last account id done), like the monthly run."""

    __tablename__ = "crediting_year_ends"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    year: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12))
    open_slot: Mapped[int | None] = mapped_column(Integer, nullable=True, unique=True)
    # JSON {admdvs: rate_bp}: the rates as they stood when the run opened, kept for its whole
    # life so a run resumed after a rate changed computes what it started with.
    rates: Mapped[str] = mapped_column(Text, default="{}")
    account_cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    accounts_done: Mapped[int] = mapped_column(BigInteger, default=0)
    credited_count: Mapped[int] = mapped_column(BigInteger, default=0)
    credited_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    already_count: Mapped[int] = mapped_column(BigInteger, default=0)
    proposed_by: Mapped[str] = mapped_column(String(64))
    approved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        CheckConstraint("state IN ('proposed', 'crediting', 'done', 'rejected')", name="state"),
        CheckConstraint("open_slot IS NULL OR open_slot = 1", name="open_slot"),
        CheckConstraint("approved_by IS NULL OR approved_by <> proposed_by", name="four_eyes"),
    )


class YearEndTotal(Base):
    """Accounts, interest entries and their sum of a year-end run per region, moved with each
    batch's commit."""

    __tablename__ = "crediting_year_end_totals"

    run_id: Mapped[int] = mapped_column(ForeignKey("crediting_year_ends.id"), primary_key=True)
    admdvs: Mapped[str] = mapped_column(String(6), primary_key=True)
    rate_bp: Mapped[int] = mapped_column(Integer)
    accounts: Mapped[int] = mapped_column(BigInteger, default=0)
    credited_count: Mapped[int] = mapped_column(BigInteger, default=0)
    credited_fen: Mapped[int] = mapped_column(BigInteger, default=0)
