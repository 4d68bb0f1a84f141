"""2001 人员待遇享受检查's rules: what a person may receive today, fund by fund, and each reason
they may not. Pure: the caller reads the enrolment, the year and the account (at this deployment,
or at the home region for a person insured elsewhere) and both get the same answer.

- Not enrolled in the insurance asked, or enrolled with a status other than normal: no fund pays.
- A pharmacy settles only 41 定点药店购药; a hospital never does.
- The pooled fund stops at the region's yearly cap (封顶线).
- The personal account (employees, 310) pays only when it exists, is not frozen, and holds money.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from yibao.enrolment.domain import ENROLMENT_STATUS_NAMES, Cover, EnrolmentStatus
from yibao.kernel.money import format_yuan
from yibao.ledger.domain import AccountState, AccountStatus
from yibao.settlement.domain import MED_TYPE_NAMES, YearToDate

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


def entitlements(
    *,
    insutype: str,
    cover: Cover | None,
    institution_kind: str,
    med_type: str,
    yearly_cap_fen: int,
    so_far: YearToDate,
    account: AccountState | None,
    today: date,
    general: tuple[str, ...] = (),
) -> list[Entitlement]:
    """`general`: reasons the caller found that stop every fund (e.g. no 备案 where the home
    region refuses treatment elsewhere without one)."""
    stops = list(general)
    if cover is None:
        stops.append(f"未参加险种 {insutype}")
    elif cover.status != EnrolmentStatus.NORMAL:
        shown = ENROLMENT_STATUS_NAMES.get(cover.status, cover.status)
        stops.append(f"参保状态为{shown}，不能享受医保待遇")
    if institution_kind == "P" and med_type not in PHARMACY_MED_TYPES:
        stops.append(f"定点药店只能以医疗类别 41（{MED_TYPE_NAMES['41']}）结算")
    if institution_kind == "H" and med_type in PHARMACY_MED_TYPES:
        stops.append("医疗类别 41 仅用于定点药店购药")
    pooled_code, pooled_name = POOLED.get(insutype, POOLED["390"])
    pooled = list(stops)
    if cover is not None and yearly_cap_fen and so_far.fund_paid_fen >= yearly_cap_fen:
        pooled.append(
            f"本年度统筹基金已支付 {format_yuan(so_far.fund_paid_fen)} 元，"
            f"达到最高支付限额 {format_yuan(yearly_cap_fen)} 元"
        )
    year_start = date(today.year, 1, 1)
    found = [Entitlement(pooled_code, pooled_name, "统筹基金", year_start, tuple(pooled))]
    if insutype == "310":
        own = list(stops)
        if account is None:
            own.append("没有职工医保个人账户")
        elif account.status == AccountStatus.FROZEN:
            own.append("个人账户已冻结，暂停支付")
        elif account.balance_fen <= 0:
            own.append("个人账户余额为 0")
        found.append(Entitlement(ACCOUNT[0], ACCOUNT[1], "个人账户", year_start, tuple(own)))
    return found
