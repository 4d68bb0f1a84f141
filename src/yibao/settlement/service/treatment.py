"""2001 人员待遇享受检查: what a person may receive today at this institution, fund by fund,
and each reason they may not. Reads only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.domain import ENROLMENT_STATUS_NAMES, EnrolmentStatus, InsuredPerson
from yibao.kernel.clock import Clock, china_today
from yibao.kernel.money import format_yuan
from yibao.ledger import repository as ledger_repository
from yibao.ledger.domain import AccountStatus
from yibao.settlement import repository
from yibao.settlement.domain import MED_TYPE_NAMES, Caller, YearToDate
from yibao.settlement.service.visits import insured_with_cover

POOLED = {
    "310": ("310100", "职工基本医疗保险统筹基金"),
    "390": ("390100", "城乡居民基本医疗保险基金"),
}
ACCOUNT = ("310200", "职工基本医疗保险个人账户")
PHARMACY_MED_TYPES = {"41"}  # 定点药店购药


@dataclass(frozen=True, slots=True)
class Entitlement:
    """One fund the person may (or may not) draw on today."""

    fund_pay_type: str
    fund_name: str
    check: str  # what was checked: 统筹基金 (enrolment, yearly cap), 个人账户
    begndate: date
    reasons: tuple[str, ...] = ()

    @property
    def enjoyed(self) -> bool:
        return not self.reasons


@dataclass(frozen=True, slots=True)
class TreatmentCheck:
    person: InsuredPerson
    insutype: str
    on: date
    entitlements: list[Entitlement] = field(default_factory=list)


async def check_treatment(
    session: AsyncSession,
    clock: Clock,
    institution: Caller,
    *,
    psn_no: str,
    insutype: str,
    med_type: str,
) -> TreatmentCheck:
    """Each fund of the insurance `insutype` with the reasons it does not pay today (none: it
    pays): the enrolment's status, the year's cap, the personal account's state and balance."""
    person, covers = await insured_with_cover(session, psn_no)
    today = china_today(clock)
    cover = next((c for c in covers if c.insutype == insutype), None)
    general: list[str] = []
    if cover is None:
        general.append(f"未参加险种 {insutype}")
    elif cover.status != EnrolmentStatus.NORMAL:
        shown = ENROLMENT_STATUS_NAMES.get(cover.status, cover.status)
        general.append(f"参保状态为{shown}，不能享受医保待遇")
    if institution.kind == "P" and med_type not in PHARMACY_MED_TYPES:
        general.append(f"定点药店只能以医疗类别 41（{MED_TYPE_NAMES['41']}）结算")
    if institution.kind == "H" and med_type in PHARMACY_MED_TYPES:
        general.append("医疗类别 41 仅用于定点药店购药")
    pooled_code, pooled_name = POOLED.get(insutype, POOLED["390"])
    pooled = list(general)
    if cover is not None:
        region = await enrolment_repository.region_rules(session, cover.admdvs)
        so_far = await repository.year_to_date(session, person.id, today.year) or YearToDate()
        if region.yearly_cap_fen and so_far.fund_paid_fen >= region.yearly_cap_fen:
            pooled.append(
                f"本年度统筹基金已支付 {format_yuan(so_far.fund_paid_fen)} 元，"
                f"达到最高支付限额 {format_yuan(region.yearly_cap_fen)} 元"
            )
    year_start = date(today.year, 1, 1)
    found = [Entitlement(pooled_code, pooled_name, "统筹基金", year_start, tuple(pooled))]
    if insutype == "310":
        account = list(general)
        state = await ledger_repository.account_state_of_person(session, person.id)
        if state is None:
            account.append("没有职工医保个人账户")
        elif state.status == AccountStatus.FROZEN:
            account.append("个人账户已冻结，暂停支付")
        elif state.balance_fen <= 0:
            account.append("个人账户余额为 0")
        found.append(Entitlement(ACCOUNT[0], ACCOUNT[1], "个人账户", year_start, tuple(account)))
    return TreatmentCheck(person, insutype, today, found)
