"""The counter prints 《医疗保险个人账户结算单》 for the person being served: the same statement
(and PDF) the person downloads, and a read of their data, so it is recorded on the audit trail
(and on their 查询记录) with the look-up's reason, in the same transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import repository as audit_repository
from yibao.audit.domain import LOOKUP_REASONS, LookupReasonRequired
from yibao.kernel.actors import StaffActor
from yibao.kernel.clock import Clock
from yibao.statements.domain import DayRange, Statement
from yibao.statements.service.reads import statement


async def statement_for_staff(
    session: AsyncSession,
    clock: Clock,
    staff: StaffActor,
    person_id: int,
    reason: str,
    days: DayRange,
) -> Statement:
    if reason not in LOOKUP_REASONS:
        raise LookupReasonRequired("请先选择查询事由")
    printed = await statement(session, clock, person_id, days)
    await audit_repository.record_staff_action(
        session,
        staff,
        "statement.print",
        person_id,
        reason,
        {"since": days.since.isoformat(), "until": days.until.isoformat()},
        clock.now(),
    )
    await session.commit()
    return printed
