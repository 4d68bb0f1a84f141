"""Rules of enrolment.

- A person is identified by the resident ID number; the platform's own number is `psn_no`.
- Insurance types (`insutype`): 310 employee basic, 390 resident basic, and supplementary ones.
  Only employee insurance (310) members hold a personal account (个人账户).
- Person types (`psn_type`): 1101 in service, 1201 retired, 1300 离休, 1501 ordinary resident.
  1101 must be employee insurance; 1501 must be resident insurance.
- Enrolment status (`psn_insu_stas`): 1 normal (参保缴费), 2 suspended (暂停), 4 terminated (终止).
- Region rules are data (`RegionRules`), never constants in code: every region may differ.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from yibao.kernel.errors import InvalidInput, NotFound


class InsuranceType(StrEnum):
    EMPLOYEE = "310"
    RESIDENT = "390"
    CIVIL_SERVANT = "320"
    LARGE_AMOUNT = "330"
    RETIRED_CADRE = "340"
    RESIDENT_CRITICAL = "392"
    MATERNITY = "510"


INSUTYPE_NAMES = {
    "310": "职工基本医疗保险",
    "390": "城乡居民基本医疗保险",
    "320": "公务员医疗补助",
    "330": "大额医疗费用补助",
    "340": "离休人员医疗保障",
    "392": "城乡居民大病医疗保险",
    "510": "生育保险",
}


class PersonType(StrEnum):
    EMPLOYEE_IN_SERVICE = "1101"
    EMPLOYEE_RETIRED = "1201"
    RETIRED_CADRE = "1300"
    RESIDENT = "1501"


PSN_TYPE_NAMES = {"1101": "职工在职", "1201": "职工退休", "1300": "离休", "1501": "普通居民"}


class EnrolmentStatus(StrEnum):
    NORMAL = "1"
    SUSPENDED = "2"
    TERMINATED = "4"


ENROLMENT_STATUS_NAMES = {"1": "正常参保", "2": "暂停参保", "4": "终止参保"}


class MutualAidScope(StrEnum):
    REGION = "region"
    PROVINCE = "province"
    NATIONWIDE = "nationwide"


class InvalidRegion(InvalidInput):
    code = "invalid_region"


class UnknownRegion(NotFound):
    code = "unknown_region"


class UnknownPerson(NotFound):
    code = "unknown_person"


class PersonAlreadyEnrolled(InvalidInput):
    code = "person_already_enrolled"


class InvalidEnrolment(InvalidInput):
    code = "invalid_enrolment"


_ADMDVS = re.compile(r"^\d{6}$")


def parse_admdvs(raw: str) -> str:
    value = raw.strip()
    if not _ADMDVS.match(value):
        raise InvalidRegion(f"医保区划应为6位数字（GB/T 2260），收到 {raw!r}")
    return value


@dataclass(frozen=True, slots=True)
class RegionRules:
    """The local rules of one region (地方政策). Rates in basis points, amounts in fen."""

    account_credit_rate_bp: int  # in-service employee's own contribution credited to the account
    retiree_monthly_credit_fen: int
    deductible_fen: int  # 起付线, per year
    fund_ratio_bp: int  # pooled fund's share above the deductible, in-service
    retiree_fund_ratio_bp: int
    yearly_cap_fen: int  # 封顶线
    class_b_selfpay_bp: int  # default 乙类先行自付比例
    near_relatives_allowed: bool
    mutual_aid_scope: MutualAidScope
    resident_contribution_fen: int  # yearly resident-insurance contribution per person


def check_person_type(insutype: str, psn_type: str) -> None:
    if insutype not in INSUTYPE_NAMES:
        raise InvalidEnrolment(f"未知险种 insutype={insutype!r}，应为 310 或 390 等")
    if psn_type not in PSN_TYPE_NAMES:
        raise InvalidEnrolment(f"未知人员类别 psn_type={psn_type!r}，应为 1101、1201、1300 或 1501")
    if insutype == InsuranceType.EMPLOYEE and psn_type == PersonType.RESIDENT:
        raise InvalidEnrolment("职工医保（310）的人员类别不能是普通居民（1501）")
    if insutype == InsuranceType.RESIDENT and psn_type != PersonType.RESIDENT:
        raise InvalidEnrolment("居民医保（390）的人员类别应为普通居民（1501）")


def has_personal_account(insutype: str) -> bool:
    return insutype == InsuranceType.EMPLOYEE


def is_retired(psn_type: str) -> bool:
    return psn_type in {PersonType.EMPLOYEE_RETIRED, PersonType.RETIRED_CADRE}


@dataclass(frozen=True, slots=True)
class InsuredPerson:
    """A person as the counter sees them (settlement's hot path reads the row, not the ORM)."""

    id: int
    psn_no: str
    name: str
    id_number_hash: str
    id_number_masked: str
    gender: str
    birth_date: date
    card_no: str | None


@dataclass(frozen=True, slots=True)
class Cover:
    """One enrolment (参保) as settlement needs it: the insurance, person type, status, region."""

    insutype: str
    psn_type: str
    status: str
    admdvs: str
