"""Rules of settlement at designated institutions (定点医药机构).

- An institution code is 12 characters: H (hospital) or P (pharmacy), the 6-digit region, a
  5-digit sequence. Only active institutions settle.
- Each fee line is split: a catalogue item of class 03 丙类 (or not in the catalogue) is fully
  self-paid (全自费); above the item's price cap the excess is self-paid (超限价自费); of a 02 乙类
  item the region's (or the item's) share is self-paid first (先行自付); the rest is in scope
  (符合范围). The four parts always add up to the line's total.
- The pooled fund pays the in-scope amount above what is left of the yearly deductible (起付线),
  at the region's ratio (retirees have their own), never past what is left of the yearly cap
  (封顶线). Each person's yearly accumulations are kept so the deductible and cap span visits.
- The person's share is paid from their own account when the institution asks for it
  (acct_used_flag = 1), then from 家庭共济 authorisers in their order, never past a balance or a
  quota, and the rest in cash. The parts add up to the share.
- An ecToken (医保电子凭证) is bound to one person, is short-lived and pays once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from yibao.kernel.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from yibao.kernel.money import Fen, apply_rate_bp


class InstitutionType(StrEnum):
    HOSPITAL = "H"
    PHARMACY = "P"


INSTITUTION_TYPE_NAMES = {"H": "定点医院", "P": "定点药店"}


class InstitutionStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class ItemClass(StrEnum):
    CLASS_A = "01"  # 甲类
    CLASS_B = "02"  # 乙类
    CLASS_C = "03"  # 丙类 / 目录外


ITEM_CLASS_NAMES = {"01": "甲类", "02": "乙类", "03": "丙类"}

MED_TYPE_NAMES = {
    "11": "普通门诊",
    "13": "急诊",
    "14": "门诊慢特病",
    "21": "普通住院",
    "41": "定点药店购药",
}

CERT_TYPE_NAMES = {"01": "医保电子凭证", "02": "居民身份证", "03": "社会保障卡"}


class InvalidInstitution(InvalidInput):
    code = "invalid_institution"


class UnknownInstitution(NotFound):
    code = "unknown_institution"


class InstitutionSuspended(PermissionDenied):
    code = "institution_suspended"


class InstitutionExists(Conflict):
    code = "institution_exists"


class InvalidCatalogueItem(InvalidInput):
    code = "invalid_catalogue_item"


class InvalidBill(InvalidInput):
    code = "invalid_bill"


class UnknownVisit(NotFound):
    code = "unknown_visit"


class UnknownSettlement(NotFound):
    code = "unknown_settlement"


class SettlementCancelled(Conflict):
    code = "settlement_cancelled"


class VisitSettled(Conflict):
    code = "visit_settled"


class NotInsured(DomainError):
    code = "not_insured"


class InvalidEcToken(PermissionDenied):
    code = "invalid_ec_token"


class EcTokenUsed(Conflict):
    code = "ec_token_used"


_INSTITUTION_CODE = re.compile(r"^[HP]\d{11}$")


@dataclass(frozen=True, slots=True)
class InstitutionCode:
    value: str
    kind: InstitutionType
    admdvs: str


def parse_institution_code(raw: str) -> InstitutionCode:
    value = raw.strip().upper()
    if not _INSTITUTION_CODE.match(value):
        raise InvalidInstitution(
            f"定点医药机构编码应为12位：H（医院）或 P（药店）+ 6位区划 + 5位顺序号，"
            f"例如 H31010400012，收到 {raw!r}"
        )
    return InstitutionCode(value=value, kind=InstitutionType(value[0]), admdvs=value[1:7])


@dataclass(frozen=True, slots=True)
class Caller:
    """The designated institution behind a message, as the gateway found it."""

    id: int
    fixmedins_code: str
    name: str
    kind: str
    admdvs: str
    sign_no: str | None
    sign_day: date | None


_COUNT = re.compile(r"^[0-9]{1,8}(\.[0-9]+)?$")


def parse_count(raw: object, *, field: str = "cnt") -> Decimal:
    """A quantity: a positive decimal below 10^8 with up to 4 places (given as text or a number,
    in ASCII digits; no exponent)."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int, Decimal)):
        raise InvalidBill(f"{field} 应为数量，收到 {_shown(raw)}")
    if isinstance(raw, Decimal):
        # Bounded before it is written out: 1E+100000000 would be a hundred million digits.
        if not raw.is_finite() or raw.adjusted() >= 8 or int(raw.as_tuple().exponent) < -12:
            raise InvalidBill(f"{field} 应为大于0、最多8位整数和4位小数的数量，收到 {_shown(raw)}")
        text = format(raw, "f")
    else:
        text = str(raw).strip()  # an int from JSON has at most 4,300 digits
    if len(text) > 24 or not _COUNT.match(text):
        raise InvalidBill(f"{field} 应为大于0、最多8位整数和4位小数的数量，收到 {_shown(raw)}")
    value = Decimal(text)
    if value <= 0 or value != value.quantize(Decimal("0.0001")):
        raise InvalidBill(f"{field} 应为大于0、最多8位整数和4位小数的数量，收到 {_shown(raw)}")
    return value


def _shown(raw: object) -> str:
    text = repr(raw) if not isinstance(raw, Decimal) else repr(str(raw))
    return text if len(text) <= 32 else text[:29] + "…"


def times_count(price_fen: Fen, count: Decimal) -> Fen:
    """price × count rounded half up to the fen, in integer arithmetic."""
    scaled = int(count * 10_000)
    quotient, remainder = divmod(price_fen * scaled, 10_000)
    return quotient + (1 if remainder * 2 >= 10_000 else 0)


@dataclass(frozen=True, slots=True)
class CatalogueRule:
    """What the catalogue says of one item on the day of the fee."""

    med_list_codg: str
    name: str
    chrgitm_lv: ItemClass
    selfpay_bp: int | None  # 乙类先行自付比例 of this item; None: the region's
    price_cap_fen: Fen | None  # 限价 per unit


@dataclass(frozen=True, slots=True)
class FeeLine:
    feedetl_sn: str
    med_list_codg: str
    pric_fen: Fen
    cnt: Decimal
    det_item_fee_sumamt_fen: Fen


@dataclass(frozen=True, slots=True)
class LineSplit:
    chrgitm_lv: ItemClass
    fulamt_ownpay_fen: Fen
    overlmt_selfpay_fen: Fen
    preselfpay_fen: Fen
    inscp_scp_fen: Fen
    warning: str | None = None


def check_fee_line(line: FeeLine) -> None:
    if line.pric_fen < 0 or line.det_item_fee_sumamt_fen < 0:
        raise InvalidBill(f"费用明细 {line.feedetl_sn}: 金额不能为负数")
    expected = times_count(line.pric_fen, line.cnt)
    if abs(expected - line.det_item_fee_sumamt_fen) > 1:
        raise InvalidBill(
            f"费用明细 {line.feedetl_sn}: det_item_fee_sumamt 应等于 pric × cnt"
            f"（{expected / 100:.2f}），收到 {line.det_item_fee_sumamt_fen / 100:.2f}"
        )


def split_line(line: FeeLine, rule: CatalogueRule | None, region_selfpay_bp: int) -> LineSplit:
    total = line.det_item_fee_sumamt_fen
    if rule is None:
        return LineSplit(
            ItemClass.CLASS_C,
            total,
            0,
            0,
            0,
            warning=f"目录外项目 {line.med_list_codg} 按全自费处理",
        )
    if rule.chrgitm_lv == ItemClass.CLASS_C:
        return LineSplit(ItemClass.CLASS_C, total, 0, 0, 0)
    over = 0
    if rule.price_cap_fen is not None and line.pric_fen > rule.price_cap_fen:
        over = max(total - times_count(rule.price_cap_fen, line.cnt), 0)
    within = total - over
    pre = 0
    if rule.chrgitm_lv == ItemClass.CLASS_B:
        share = rule.selfpay_bp if rule.selfpay_bp is not None else region_selfpay_bp
        pre = apply_rate_bp(within, share)
    return LineSplit(rule.chrgitm_lv, 0, over, pre, within - pre)


@dataclass(frozen=True, slots=True)
class VisitState:
    """An outpatient visit's row as settling reads it (locked, with its fee lines)."""

    id: int
    mdtrt_id: str
    person_id: int
    fixmedins_code: str
    status: str
    # (how many fee lines, the highest line id) as read: the settlement's write checks the visit
    # still has exactly these (repository/writing.py).
    fees_read: tuple[int, int] = (0, 0)


@dataclass(frozen=True, slots=True)
class SettlementMade:
    """The settlement a 2207/2102 has just written, as its answer quotes it."""

    id: int
    setl_id: str
    mdtrt_id: str
    insutype: str
    med_type: str
    setl_time: datetime
    msgid: str
    status: str


@dataclass(frozen=True, slots=True)
class YearToDate:
    """A person's accumulations in the calendar year: deductible met and fund paid so far."""

    deductible_used_fen: Fen = 0
    fund_paid_fen: Fen = 0


@dataclass(frozen=True, slots=True)
class Policy:
    deductible_fen: Fen
    fund_ratio_bp: int
    yearly_cap_fen: Fen


@dataclass(frozen=True, slots=True)
class FundShare:
    act_pay_dedc_fen: Fen  # part of the in-scope amount counted against the deductible
    hifp_pay_fen: Fen


def fund_share(inscp_fen: Fen, so_far: YearToDate, policy: Policy) -> FundShare:
    deductible_left = max(policy.deductible_fen - so_far.deductible_used_fen, 0)
    dedc = min(inscp_fen, deductible_left)
    cap_left = max(policy.yearly_cap_fen - so_far.fund_paid_fen, 0)
    fund = min(apply_rate_bp(inscp_fen - dedc, policy.fund_ratio_bp), cap_left)
    return FundShare(dedc, fund)


@dataclass(frozen=True, slots=True)
class Bill:
    """The split of a whole bill and what the fund pays of it."""

    medfee_sumamt_fen: Fen
    fulamt_ownpay_fen: Fen
    overlmt_selfpay_fen: Fen
    preselfpay_fen: Fen
    inscp_scp_fen: Fen
    act_pay_dedc_fen: Fen
    hifp_pay_fen: Fen

    @property
    def fund_pay_sumamt_fen(self) -> Fen:
        return self.hifp_pay_fen

    @property
    def psn_part_fen(self) -> Fen:
        return self.medfee_sumamt_fen - self.hifp_pay_fen


def assess_bill(splits: Sequence[LineSplit], so_far: YearToDate, policy: Policy) -> Bill:
    ful = sum(s.fulamt_ownpay_fen for s in splits)
    over = sum(s.overlmt_selfpay_fen for s in splits)
    pre = sum(s.preselfpay_fen for s in splits)
    inscp = sum(s.inscp_scp_fen for s in splits)
    share = fund_share(inscp, so_far, policy)
    return Bill(
        medfee_sumamt_fen=ful + over + pre + inscp,
        fulamt_ownpay_fen=ful,
        overlmt_selfpay_fen=over,
        preselfpay_fen=pre,
        inscp_scp_fen=inscp,
        act_pay_dedc_fen=share.act_pay_dedc_fen,
        hifp_pay_fen=share.hifp_pay_fen,
    )


def year_after(so_far: YearToDate, bill: Bill) -> YearToDate:
    return YearToDate(
        so_far.deductible_used_fen + bill.act_pay_dedc_fen,
        so_far.fund_paid_fen + bill.hifp_pay_fen,
    )


@dataclass(frozen=True, slots=True)
class MutualAidPayer:
    """An authorising relative whose account may pay this beneficiary's share (家庭共济)."""

    payer_person_id: int
    account_id: int
    quota_remaining_fen: Fen | None
    order: int
    authorisation_id: int


@dataclass(frozen=True, slots=True)
class PayerFunds:
    payer: MutualAidPayer
    balance_fen: Fen
    usable: bool  # False when the payer's account is frozen


@dataclass(frozen=True, slots=True)
class Payment:
    acct_pay_fen: Fen
    shares: tuple[tuple[MutualAidPayer, Fen], ...]
    psn_cash_pay_fen: Fen

    @property
    def acct_mulaid_pay_fen(self) -> Fen:
        return sum(amount for _, amount in self.shares)


def plan_payment(
    psn_part_fen: Fen, own_balance_fen: Fen | None, payers: Sequence[PayerFunds]
) -> Payment:
    """Own account first (None: not used), then authorisers by their order, then cash."""
    left = psn_part_fen
    own = min(left, max(own_balance_fen, 0)) if own_balance_fen is not None else 0
    left -= own
    shares: list[tuple[MutualAidPayer, Fen]] = []
    for funds in sorted(payers, key=lambda f: (f.payer.order, f.payer.account_id)):
        if left == 0:
            break
        if not funds.usable:
            continue
        limit = max(funds.balance_fen, 0)
        if funds.payer.quota_remaining_fen is not None:
            limit = min(limit, max(funds.payer.quota_remaining_fen, 0))
        amount = min(left, limit)
        if amount > 0:
            shares.append((funds.payer, amount))
            left -= amount
    return Payment(own, tuple(shares), left)
