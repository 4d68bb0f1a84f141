"""Tables of 异地就医 between deployments.

- `crossregion_peers`: the directory of regions (which deployment, URL, public key).
- `crossregion_home_rules`: a home region's rule for treatment without 备案.
- `crossregion_claims` (at the home region, A): one per settle message of its insured treated
  elsewhere — the fund part recorded, the account part's ledger entry named.
- `crossregion_visits` (at the treatment region, B): a hospital visit of a person insured
  elsewhere (2201), its fee lines (2204) as JSON until settled.
- `crossregion_settlements` (at B): what B settled for another region — what it owes its
  institution and is owed by the home region; a cash settlement (home unreachable) is also the
  outbox entry of the record B owes A.
- `crossregion_inbox` (either side): the answer kept per message id for the messages that are
  not claims (reconciliation), so a retried message gets the same answer.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db.base import Base
from yibao.db.types import BigIntPK, UTCDateTime


class Peer(Base):
    __tablename__ = "crossregion_peers"

    admdvs: Mapped[str] = mapped_column(String(6), primary_key=True)
    region_name: Mapped[str] = mapped_column(String(50))
    deployment: Mapped[str] = mapped_column(String(40))
    base_url: Mapped[str] = mapped_column(String(200))
    public_key: Mapped[str] = mapped_column(String(64))
    local: Mapped[bool] = mapped_column(Boolean, default=False)
    # The home region's choice when a treatment region cannot reach it: refuse | cash.
    when_unreachable: Mapped[str] = mapped_column(String(8), default="refuse")
    # The key the deployment is rolling to, accepted beside `public_key` (docs: key rotation).
    next_public_key: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (
        CheckConstraint("when_unreachable IN ('refuse', 'cash')", name="when_unreachable"),
    )


class HomeRule(Base):
    __tablename__ = "crossregion_home_rules"

    admdvs: Mapped[str] = mapped_column(String(6), primary_key=True)
    unfiled_rule: Mapped[str] = mapped_column(String(12), default="refuse")
    unfiled_ratio_cut_bp: Mapped[int] = mapped_column(Integer, default=1000)

    __table_args__ = (
        CheckConstraint("unfiled_rule IN ('refuse', 'lower_ratio')", name="unfiled_rule"),
        CheckConstraint(
            "unfiled_ratio_cut_bp >= 0 AND unfiled_ratio_cut_bp <= 10000", name="cut_range"
        ),
    )


class Claim(Base):
    """At the home region: a settlement of one of its insured made in another region."""

    __tablename__ = "crossregion_claims"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(10))
    treatment_admdvs: Mapped[str] = mapped_column(String(6))
    # None on a reversal that arrived before its settle message (it moved no money).
    home_admdvs: Mapped[str | None] = mapped_column(String(6), nullable=True)
    sender: Mapped[str] = mapped_column(String(40))
    setl_id: Mapped[str | None] = mapped_column(String(30), nullable=True)
    person_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    psn_no: Mapped[str | None] = mapped_column(String(30), nullable=True)
    fixmedins_code: Mapped[str | None] = mapped_column(String(12), nullable=True)
    fixmedins_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    med_type: Mapped[str | None] = mapped_column(String(4), nullable=True)
    insutype: Mapped[str | None] = mapped_column(String(3), nullable=True)
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    medfee_sumamt_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    fulamt_ownpay_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    overlmt_selfpay_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    preselfpay_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    inscp_scp_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    act_pay_dedc_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    fund_pay_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    acct_pay_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    cash_pay_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    balc_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    filed: Mapped[bool] = mapped_column(Boolean, default=True)
    entry_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    settled_on: Mapped[date] = mapped_column(Date)  # China's day, for reconciliation
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reversed_why: Mapped[str | None] = mapped_column(String(200), nullable=True)

    __table_args__ = (
        CheckConstraint("status IN ('settled', 'reversed', 'cash')", name="status"),
        CheckConstraint(
            "acct_pay_fen >= 0 AND fund_pay_fen >= 0 AND cash_pay_fen >= 0", name="parts"
        ),
        Index("ix_crossregion_claims_day", "treatment_admdvs", "settled_on"),
        # 消费记录 at home reads a person's bills paid in full elsewhere.
        Index(
            "ix_crossregion_claims_cash_person",
            "person_id",
            postgresql_where=text("status = 'cash'"),
            sqlite_where=text("status = 'cash'"),
        ),
    )


class Visit(Base):
    """At the treatment region: a hospital visit of a person insured elsewhere."""

    __tablename__ = "crossregion_visits"

    mdtrt_id: Mapped[str] = mapped_column(String(30), primary_key=True)
    fixmedins_code: Mapped[str] = mapped_column(String(12))
    psn_no: Mapped[str] = mapped_column(String(30))
    home_admdvs: Mapped[str] = mapped_column(String(6))
    insutype: Mapped[str] = mapped_column(String(3))
    med_type: Mapped[str] = mapped_column(String(4))
    # open | settled | cancelled (2202, or 2601 of its 2201)
    status: Mapped[str] = mapped_column(String(10))
    msgid: Mapped[str] = mapped_column(String(30), unique=True)
    fees: Mapped[str] = mapped_column(Text, default="[]")  # the 2204 lines, JSON
    begin_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The last 2203's visit information and diagnoses (JSON) and its msgid, for its 2601.
    info: Mapped[str | None] = mapped_column(Text, nullable=True)
    info_msgid: Mapped[str | None] = mapped_column(String(30), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Settlement(Base):
    """At the treatment region: a settlement made for a person insured elsewhere."""

    __tablename__ = "crossregion_settlements"

    setl_id: Mapped[str] = mapped_column(String(30), primary_key=True)
    msgid: Mapped[str] = mapped_column(String(30), unique=True)
    message_id: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(10))  # settled | cancelled
    fixmedins_code: Mapped[str] = mapped_column(String(12))
    home_admdvs: Mapped[str] = mapped_column(String(6))
    psn_no: Mapped[str] = mapped_column(String(30))
    psn_name: Mapped[str] = mapped_column(String(50))
    mdtrt_id: Mapped[str] = mapped_column(String(30))
    med_type: Mapped[str] = mapped_column(String(4))
    insutype: Mapped[str] = mapped_column(String(3))
    medfee_sumamt_fen: Mapped[int] = mapped_column(BigInteger)
    fund_pay_fen: Mapped[int] = mapped_column(BigInteger)
    acct_pay_fen: Mapped[int] = mapped_column(BigInteger)
    cash_pay_fen: Mapped[int] = mapped_column(BigInteger)
    answer: Mapped[str] = mapped_column(Text)  # A's figures, JSON, for 2208's reply
    # For 5203: the lines as priced here (JSON) and the person as A named them (masked ID).
    items: Mapped[str | None] = mapped_column(Text, nullable=True)
    person: Mapped[str | None] = mapped_column(Text, nullable=True)
    settled_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # direct: A took its part. cash: A unreachable, the person paid everything; the row is then
    # also B's outbox entry for the record A must receive (delivered_at None until A takes it).
    mode: Mapped[str] = mapped_column(String(8), default="direct")
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    delivery_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_delivery_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_delivery_error: Mapped[str | None] = mapped_column(String(200), nullable=True)

    __table_args__ = (
        CheckConstraint("status IN ('settled', 'cancelled')", name="status"),
        CheckConstraint("mode IN ('direct', 'cash')", name="mode"),
        Index("ix_crossregion_settlements_day", "home_admdvs", "settled_on"),
        # The worker's queue: only undelivered cash records are in it.
        Index(
            "ix_crossregion_settlements_undelivered",
            "next_delivery_at",
            postgresql_where=text("mode = 'cash' AND delivered_at IS NULL"),
            sqlite_where=text("mode = 'cash' AND delivered_at IS NULL"),
        ),
    )


class InboxMessage(Base):
    __tablename__ = "crossregion_inbox"

    message_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    sender: Mapped[str] = mapped_column(String(40))
    digest: Mapped[str] = mapped_column(String(64))
    answer: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
