"""2001 人员待遇享受检查: what a person may receive today at this institution, fund by fund,
and each reason they may not. Reads only; the rules are `settlement.entitlements`, which the home
region applies too when another region's institution asks for its insured (异地就医)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.domain import InsuredPerson
from yibao.kernel.clock import Clock, china_today
from yibao.ledger import repository as ledger_repository
from yibao.settlement import repository
from yibao.settlement.domain import Caller, YearToDate
from yibao.settlement.entitlements import Entitlement, entitlements
from yibao.settlement.service.visits import insured_with_cover

__all__ = ["Entitlement", "TreatmentCheck", "check_treatment"]


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
    cap = 0
    so_far = YearToDate()
    if cover is not None:
        cap = (await enrolment_repository.region_rules(session, cover.admdvs)).yearly_cap_fen
        so_far = await repository.year_to_date(session, person.id, today.year) or YearToDate()
    account = (
        await ledger_repository.account_state_of_person(session, person.id)
        if insutype == "310"
        else None
    )
    found = entitlements(
        insutype=insutype,
        cover=cover,
        institution_kind=institution.kind,
        med_type=med_type,
        yearly_cap_fen=cap,
        so_far=so_far,
        account=account,
        today=today,
    )
    return TreatmentCheck(person, insutype, today, found)
