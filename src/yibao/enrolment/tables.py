"""Tables of enrolment: regions with their rules, employers, persons, enrolments."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from yibao.db.base import Base
from yibao.db.types import BigIntPK, UTCDateTime


class Region(Base):
    """统筹区 / 医保区划 with its local rules as data."""

    __tablename__ = "regions"

    admdvs: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    account_credit_rate_bp: Mapped[int] = mapped_column(Integer, default=200)
    retiree_monthly_credit_fen: Mapped[int] = mapped_column(BigInteger, default=9000)
    deductible_fen: Mapped[int] = mapped_column(BigInteger, default=150000)
    fund_ratio_bp: Mapped[int] = mapped_column(Integer, default=7000)
    retiree_fund_ratio_bp: Mapped[int] = mapped_column(Integer, default=8000)
    yearly_cap_fen: Mapped[int] = mapped_column(BigInteger, default=50000000)
    class_b_selfpay_bp: Mapped[int] = mapped_column(Integer, default=1000)
    near_relatives_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    mutual_aid_scope: Mapped[str] = mapped_column(String(12), default="region")
    resident_contribution_fen: Mapped[int] = mapped_column(BigInteger, default=40000)

    __table_args__ = (
        CheckConstraint("account_credit_rate_bp BETWEEN 0 AND 10000", name="credit_rate"),
        CheckConstraint("fund_ratio_bp BETWEEN 0 AND 10000", name="fund_ratio"),
        CheckConstraint("retiree_fund_ratio_bp BETWEEN 0 AND 10000", name="retiree_fund_ratio"),
        CheckConstraint("class_b_selfpay_bp BETWEEN 0 AND 10000", name="class_b_selfpay"),
        CheckConstraint(
            "retiree_monthly_credit_fen >= 0 AND deductible_fen >= 0 AND yearly_cap_fen >= 0"
            " AND resident_contribution_fen >= 0",
            name="amounts_non_negative",
        ),
        CheckConstraint(
            "mutual_aid_scope IN ('region', 'province', 'nationwide')", name="mutual_aid_scope"
        ),
    )


class Employer(Base):
    """单位: pays the employer part of employee contributions."""

    __tablename__ = "employers"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    admdvs: Mapped[str] = mapped_column(ForeignKey("regions.admdvs"))


class Person(Base):
    """参保人. The ID number and phone are encrypted; `*_hash` columns find them."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    psn_no: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    id_number_enc: Mapped[bytes] = mapped_column(LargeBinary)
    id_number_hash: Mapped[str] = mapped_column(String(64), unique=True)
    id_number_masked: Mapped[str] = mapped_column(String(18))
    gender: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date] = mapped_column(Date)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    phone_masked: Mapped[str | None] = mapped_column(String(11), nullable=True)
    # 社会保障卡号: shown on the card itself, so it is kept in clear and unique.
    card_no: Mapped[str | None] = mapped_column(String(20), unique=True, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("gender IN ('1', '2')", name="gender"),)


class Enrolment(Base):
    """One insurance of one person: type, person type, status, region, employer, dates."""

    __tablename__ = "enrolments"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    insutype: Mapped[str] = mapped_column(String(3))
    psn_type: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(1))
    admdvs: Mapped[str] = mapped_column(ForeignKey("regions.admdvs"))
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employers.id"), nullable=True)
    begin_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)

    __table_args__ = (
        UniqueConstraint("person_id", "insutype", name="uq_enrolments_person_insutype"),
        CheckConstraint("status IN ('1', '2', '4')", name="status"),
        CheckConstraint(
            "insutype IN ('310', '320', '330', '340', '390', '392', '510')", name="insutype"
        ),
    )
