"""Tables of settlement: institutions, the catalogue, visits and fees, settlements, accumulations,
e-voucher uses and the interface's answered messages."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db.base import Base
from yibao.db.types import BigIntPK, UTCDateTime


class Institution(Base):
    """定点医药机构. The paasToken is kept encrypted (the gateway signature needs it) and
    found by a keyed hash; it is shown once, when made."""

    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    fixmedins_code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(1))
    admdvs: Mapped[str] = mapped_column(ForeignKey("regions.admdvs"))
    level: Mapped[str | None] = mapped_column(String(20), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default="active")
    paasid: Mapped[str] = mapped_column(String(40), unique=True)
    token_enc: Mapped[bytes] = mapped_column(LargeBinary)
    token_hash: Mapped[str] = mapped_column(String(64))
    # The day's 9001 sign-in, kept on the row the gateway reads anyway.
    sign_no: Mapped[str | None] = mapped_column(String(40), nullable=True)
    sign_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("kind IN ('H', 'P')", name="kind"),
        CheckConstraint("status IN ('active', 'suspended')", name="status"),
    )


class CatalogueEntry(Base):
    """医保目录: one version of an item, valid from `begin_date` to `end_date` (inclusive)."""

    __tablename__ = "catalogue_entries"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    med_list_codg: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))
    list_type: Mapped[str] = mapped_column(String(12))  # drug | service | consumable
    chrgitm_lv: Mapped[str] = mapped_column(String(2))
    selfpay_bp: Mapped[int | None] = mapped_column(Integer, nullable=True)
    price_cap_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    spec: Mapped[str | None] = mapped_column(String(100), nullable=True)
    begin_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    # When an import last added or changed it (1312/1318/1319 `updt_time`); NULL before 0013.
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("med_list_codg", "begin_date", name="uq_catalogue_entries_code_begin"),
        CheckConstraint("chrgitm_lv IN ('01', '02', '03')", name="chrgitm_lv"),
        CheckConstraint("list_type IN ('drug', 'service', 'consumable')", name="list_type"),
        CheckConstraint("selfpay_bp IS NULL OR selfpay_bp BETWEEN 0 AND 10000", name="selfpay"),
        CheckConstraint("price_cap_fen IS NULL OR price_cap_fen >= 0", name="price_cap"),
    )


class Visit(Base):
    """就诊: opened by 2201 (or by a pharmacy sale), fees uploaded by 2204."""

    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    mdtrt_id: Mapped[str] = mapped_column(String(30), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    fixmedins_code: Mapped[str] = mapped_column(String(12))
    med_type: Mapped[str] = mapped_column(String(2))
    insutype: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(10), default="open")
    begin_at: Mapped[datetime] = mapped_column(UTCDateTime)
    msgid: Mapped[str] = mapped_column(String(40), index=True)
    # 2203 门诊就诊信息上传: the main condition and disease, and the 2203 that set them.
    main_cond_dscr: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    dise_codg: Mapped[str | None] = mapped_column(String(30), nullable=True)
    dise_name: Mapped[str | None] = mapped_column(String(500), nullable=True)
    info_msgid: Mapped[str | None] = mapped_column(String(40), nullable=True)

    __table_args__ = (CheckConstraint("status IN ('open', 'settled', 'cancelled')", name="status"),)


class VisitDiagnosis(Base):
    """One diagnosis of a visit, as its latest 2203 sent it (migration 0013_fsi_shape)."""

    __tablename__ = "visit_diagnoses"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    diag_type: Mapped[str] = mapped_column(String(3))
    diag_srt_no: Mapped[int] = mapped_column(Integer)
    diag_code: Mapped[str] = mapped_column(String(20))
    diag_name: Mapped[str] = mapped_column(String(100))
    diag_dept: Mapped[str | None] = mapped_column(String(50), nullable=True)
    dise_dor_no: Mapped[str | None] = mapped_column(String(30), nullable=True)
    dise_dor_name: Mapped[str | None] = mapped_column(String(50), nullable=True)
    diag_time: Mapped[str | None] = mapped_column(String(19), nullable=True)
    vali_flag: Mapped[str] = mapped_column(String(3))
    msgid: Mapped[str] = mapped_column(String(40))  # the 2203 that sent it


class FeeDetail(Base):
    """One uploaded fee line (2204) of a visit."""

    __tablename__ = "fee_details"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"))
    feedetl_sn: Mapped[str] = mapped_column(String(30))
    med_list_codg: Mapped[str] = mapped_column(String(50))
    medins_list_codg: Mapped[str | None] = mapped_column(String(50), nullable=True)
    pric_fen: Mapped[int] = mapped_column(BigInteger)
    cnt: Mapped[str] = mapped_column(String(20))
    det_item_fee_sumamt_fen: Mapped[int] = mapped_column(BigInteger)
    fee_ocur_time: Mapped[str | None] = mapped_column(String(19), nullable=True)
    # The 2204 that uploaded the line, so that a 2601 of that message withdraws exactly its
    # lines. NULL for lines written before 0009 (and by the benchmark's pools). No index: the
    # lines are found through the person's visits (the 2601 names the person).
    msgid: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # The charge batch (收费批次号) its 2204 named, which a 2205 withdraws (0013_fsi_shape).
    chrg_bchno: Mapped[str | None] = mapped_column(String(30), nullable=True)

    __table_args__ = (UniqueConstraint("visit_id", "feedetl_sn", name="uq_fee_details_visit_sn"),)


class Settlement(Base):
    __tablename__ = "settlements"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    setl_id: Mapped[str] = mapped_column(String(30), unique=True)
    # No index on mdtrt_id (nothing reads settlements by it: 2208/2601 find them by setl_id or
    # msgid) and no foreign key on person_id (the person is read in the settlement's own
    # transaction, and persons are never deleted): each cost every settlement a WAL record, the
    # key also a look-up and a row lock on persons (migration 0015_settlement_write_cost).
    mdtrt_id: Mapped[str] = mapped_column(String(30))
    person_id: Mapped[int] = mapped_column(BigInteger)
    psn_no: Mapped[str] = mapped_column(String(30))
    fixmedins_code: Mapped[str] = mapped_column(String(12))
    fixmedins_name: Mapped[str] = mapped_column(String(100))
    fixmedins_type: Mapped[str] = mapped_column(String(1))
    med_type: Mapped[str] = mapped_column(String(2))
    insutype: Mapped[str] = mapped_column(String(3))
    medfee_sumamt_fen: Mapped[int] = mapped_column(BigInteger)
    fulamt_ownpay_amt_fen: Mapped[int] = mapped_column(BigInteger)
    overlmt_selfpay_fen: Mapped[int] = mapped_column(BigInteger)
    preselfpay_amt_fen: Mapped[int] = mapped_column(BigInteger)
    inscp_scp_amt_fen: Mapped[int] = mapped_column(BigInteger)
    act_pay_dedc_fen: Mapped[int] = mapped_column(BigInteger)
    hifp_pay_fen: Mapped[int] = mapped_column(BigInteger)
    fund_pay_sumamt_fen: Mapped[int] = mapped_column(BigInteger)
    psn_part_amt_fen: Mapped[int] = mapped_column(BigInteger)
    acct_pay_fen: Mapped[int] = mapped_column(BigInteger)
    acct_mulaid_pay_fen: Mapped[int] = mapped_column(BigInteger)
    psn_cash_pay_fen: Mapped[int] = mapped_column(BigInteger)
    balc_fen: Mapped[int] = mapped_column(BigInteger)
    setl_time: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default="settled")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    msgid: Mapped[str] = mapped_column(String(40), index=True)

    __table_args__ = (
        CheckConstraint("status IN ('settled', 'cancelled')", name="status"),
        CheckConstraint("fixmedins_type IN ('H', 'P')", name="fixmedins_type"),
        CheckConstraint(
            "medfee_sumamt_fen = fulamt_ownpay_amt_fen + overlmt_selfpay_fen"
            " + preselfpay_amt_fen + inscp_scp_amt_fen",
            name="split_adds_up",
        ),
        CheckConstraint(
            "psn_part_amt_fen = acct_pay_fen + acct_mulaid_pay_fen + psn_cash_pay_fen"
            " AND medfee_sumamt_fen = fund_pay_sumamt_fen + psn_part_amt_fen",
            name="payment_adds_up",
        ),
        CheckConstraint(
            "acct_pay_fen >= 0 AND acct_mulaid_pay_fen >= 0 AND psn_cash_pay_fen >= 0"
            " AND hifp_pay_fen >= 0 AND balc_fen >= 0",
            name="amounts_non_negative",
        ),
        Index("ix_settlements_person_time", "person_id", "setl_time"),
        # 对账 (3201/3202) sums an institution's settlements of a period (0014_reconciliation).
        Index("ix_settlements_institution_time", "fixmedins_code", "setl_time"),
    )


class SettlementItem(Base):
    __tablename__ = "settlement_items"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    # No foreign key: items are written only in the statement that writes their settlement,
    # with the id it returned, and settlements are never deleted (0015_settlement_write_cost).
    settlement_id: Mapped[int] = mapped_column(BigInteger, index=True)
    feedetl_sn: Mapped[str] = mapped_column(String(30))
    med_list_codg: Mapped[str] = mapped_column(String(50))
    med_list_name: Mapped[str] = mapped_column(String(200))
    chrgitm_lv: Mapped[str] = mapped_column(String(2))
    pric_fen: Mapped[int] = mapped_column(BigInteger)
    cnt: Mapped[str] = mapped_column(String(20))
    det_item_fee_sumamt_fen: Mapped[int] = mapped_column(BigInteger)
    fulamt_ownpay_amt_fen: Mapped[int] = mapped_column(BigInteger)
    overlmt_selfpay_fen: Mapped[int] = mapped_column(BigInteger)
    preselfpay_amt_fen: Mapped[int] = mapped_column(BigInteger)
    inscp_scp_amt_fen: Mapped[int] = mapped_column(BigInteger)


class SettlementShare(Base):
    """家庭共济: the part of a beneficiary's share one authoriser's account paid."""

    __tablename__ = "settlement_mutual_aid"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlements.id"), index=True)
    payer_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    beneficiary_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    authorisation_id: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    ledger_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"))

    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)


class YearlyAccumulation(Base):
    """年度累计: what of the deductible a person has met and what the fund has paid this year."""

    __tablename__ = "yearly_accumulations"

    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    deductible_used_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    fund_paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        CheckConstraint(
            "deductible_used_fen >= 0 AND fund_paid_fen >= 0", name="amounts_non_negative"
        ),
    )


class EcToken(Base):
    """医保电子凭证: the hash of an ecToken, whose it is, until when, and the one payment it made.

    Kept here rather than in the short-lived store so that a settlement checks and spends it
    inside its own transaction: the conditional UPDATE spends it once in any process.
    """

    __tablename__ = "ec_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    setl_id: Mapped[str | None] = mapped_column(String(30), nullable=True)


class InterfaceMessage(Base):
    """A message of the institution interface that succeeded, with the answer it got, so a
    retried msgid gets the same answer and never acts twice.

    `digest`: SHA-256 of the message's business content (`infno` and `input`), so the same msgid
    with other content is refused rather than answered with this answer (NULL: stored before
    digests were kept, treated as matching)."""

    __tablename__ = "fsi_messages"

    msgid: Mapped[str] = mapped_column(String(40), primary_key=True)
    infno: Mapped[str] = mapped_column(String(6))  # 2207, 1306A, 100001 (migration 0012)
    fixmedins_code: Mapped[str] = mapped_column(String(12))
    answer: Mapped[str] = mapped_column(Text)
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Reconciliation(Base):
    """对账: one 3201 (totals) or 3202 (details) of an institution, what it sent, what yibao
    counted and the result (migration 0014_reconciliation)."""

    __tablename__ = "reconciliations"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    fixmedins_code: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(10))  # totals | details
    msgid: Mapped[str] = mapped_column(String(40))
    opter: Mapped[str] = mapped_column(String(30))
    opter_name: Mapped[str] = mapped_column(String(50))
    setl_optins: Mapped[str] = mapped_column(String(20))
    insutype: Mapped[str | None] = mapped_column(String(3), nullable=True)
    clr_type: Mapped[str | None] = mapped_column(String(4), nullable=True)
    begin_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    their_cnt: Mapped[int] = mapped_column(BigInteger)
    their_medfee_fen: Mapped[int] = mapped_column(BigInteger)
    their_fund_fen: Mapped[int] = mapped_column(BigInteger)
    their_acct_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    our_cnt: Mapped[int] = mapped_column(BigInteger)
    our_medfee_fen: Mapped[int] = mapped_column(BigInteger)
    our_fund_fen: Mapped[int] = mapped_column(BigInteger)
    our_acct_fen: Mapped[int] = mapped_column(BigInteger)
    result: Mapped[str] = mapped_column(String(10))  # match | mismatch
    differences: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(String(500))
    file_qury_no: Mapped[str | None] = mapped_column(String(64), nullable=True)  # 3202's result
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("kind IN ('totals', 'details')", name="kind"),
        CheckConstraint("result IN ('match', 'mismatch')", name="result"),
        Index("ix_reconciliations_institution_time", "fixmedins_code", "created_at"),
    )


class ReconciliationDifference(Base):
    """One line a 3202 found differing: only at yibao, only at the institution, or amounts."""

    __tablename__ = "reconciliation_differences"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    reconciliation_id: Mapped[int] = mapped_column(ForeignKey("reconciliations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    setl_id: Mapped[str] = mapped_column(String(30), index=True)
    mdtrt_id: Mapped[str] = mapped_column(String(30))
    psn_no: Mapped[str] = mapped_column(String(30))
    our_medfee_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    our_fund_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    our_acct_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    their_medfee_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    their_fund_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    their_acct_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    memo: Mapped[str] = mapped_column(String(300))

    __table_args__ = (
        CheckConstraint(
            "kind IN ('yibao_only', 'institution_only', 'amounts_differ')", name="kind"
        ),
    )


class SettlementConfirmation(Base):
    """A settlement a 3202 found only at yibao (its answer lost), which the institution then
    listed as its own in a later 3202: confirmed, once."""

    __tablename__ = "settlement_confirmations"

    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlements.id"), primary_key=True)
    setl_id: Mapped[str] = mapped_column(String(30), unique=True)
    fixmedins_code: Mapped[str] = mapped_column(String(12))
    reconciliation_id: Mapped[int] = mapped_column(ForeignKey("reconciliations.id"))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime)
