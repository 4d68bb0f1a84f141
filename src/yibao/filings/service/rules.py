"""A region's 备案 rules: reading them (for a region, or for the person's insured region) and
setting them, by an admin or the operator's CLI, on the audit trail either way.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import repository as audit_repository
from yibao.audit.domain import ActorType
from yibao.enrolment import repository as enrolment_repository
from yibao.filings import repository
from yibao.filings.domain import FilingNotAllowed, InvalidFiling, RegionFilingRules
from yibao.filings.service.applying import _insured
from yibao.kernel.actors import StaffActor
from yibao.kernel.clock import Clock


async def rules_for_person(session: AsyncSession, person_id: int) -> RegionFilingRules:
    insured_admdvs, _ = await _insured(session, person_id)
    return await repository.rules_of(session, insured_admdvs)


async def rules_of(session: AsyncSession, admdvs: str) -> RegionFilingRules:
    return await repository.rules_of(session, admdvs)


async def set_rules(
    session: AsyncSession,
    clock: Clock,
    staff: StaffActor | None,
    admdvs: str,
    rules: RegionFilingRules,
) -> None:
    """A region's 备案 settings: an admin, or (`staff` None) the operator's CLI; audited either
    way (the CLI as the system actor `cli`)."""
    if staff is not None and "admin" not in staff.roles:
        raise FilingNotAllowed("只有管理员可以修改地区的备案规则")
    await enrolment_repository.region(session, admdvs)  # refuses an unknown region
    if not rules.allowed_kinds:
        raise InvalidFiling("allowed_kinds 至少要受理一种备案类型")
    detail = {
        "admdvs": admdvs,
        "allowed_kinds": sorted(k.value for k in rules.allowed_kinds),
        "change_after_months": rules.change_after_months,
        "temporary_months": rules.temporary_months,
        "emergency_backdate_days": rules.emergency_backdate_days,
    }
    by = f"staff:{staff.staff_id}" if staff else "cli"
    try:
        await repository.put_rules(session, admdvs, rules, by, clock.now())
        if staff is not None:
            await audit_repository.record_staff_action(
                session, staff, "filings.rules_set", None, "filing_rules", detail, clock.now()
            )
        else:
            await audit_repository.record(
                session,
                actor_type=ActorType.SYSTEM.value,
                actor_id="cli",
                actor_name="命令行",
                role="operator",
                office="",
                action="filings.rules_set",
                subject_person_id=None,
                reason="filing_rules",
                detail=detail,
                now=clock.now(),
            )
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
