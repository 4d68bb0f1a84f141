"""The use cases of one person's 备案: file, change, cancel, and read them.

For the person on the phone pages and the clerk at the counter, each commits once; for an
institution's 2501/2502 (`file_for_institution_in`, `cancel_for_institution_in`), on the
interface message's session without committing. The counter's read of a person's 备案
(`filings_for_staff`) is on their 查询记录 before it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import repository as audit_repository
from yibao.audit.domain import LOOKUP_REASONS, LookupReasonRequired
from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.domain import UnknownPerson
from yibao.filings import repository
from yibao.filings.domain import (
    Filing,
    FilingNotAllowed,
    FilingState,
    RegionFilingRules,
    UnknownFiling,
    check_may_end,
    check_text,
)
from yibao.filings.service.applying import (
    COUNTER_ROLES,
    Actor,
    Application,
    _audit,
    _commit_or_forget,
    _detail,
    _new_filing,
    _tell,
)
from yibao.filings.tables import FilingDocument, FilingRow
from yibao.kernel import uploads
from yibao.kernel.actors import StaffActor
from yibao.kernel.clock import Clock, china_today
from yibao.notifications import repository as notifications_repository


async def file(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    person_id: int,
    application: Application,
    *,
    store: uploads.DocumentStore | None = None,
) -> Filing:
    """A new 备案, in effect from its first day (online 备案 are 承诺制: no review step)."""
    try:
        filing, stored_name = await _new_filing(
            session, clock, store, actor, person_id, application
        )
        await _audit(session, actor, "filings.filed", person_id, _detail(filing), clock)
        notifications_repository.add_new(session, _tell(actor, filing, "办理", clock))
    except BaseException:
        await session.rollback()
        raise
    await _commit_or_forget(session, store, stored_name)
    return filing


async def _person_by_psn_no(session: AsyncSession, psn_no: str) -> int:
    person = await enrolment_repository.person_by_psn_no(session, psn_no)
    if person is None:
        raise UnknownPerson("psn_no 没有这个参保人")
    return person.id


async def file_for_institution_in(
    session: AsyncSession, clock: Clock, actor: Actor, psn_no: str, application: Application
) -> Filing:
    """A 转院备案 an institution files for its patient, on the message's session without
    committing (the interface commits it with its answer, once per msgid)."""
    person_id = await _person_by_psn_no(session, psn_no)
    filing, _ = await _new_filing(session, clock, None, actor, person_id, application)
    await _audit(session, actor, "filings.filed", person_id, _detail(filing), clock)
    notifications_repository.add_new(session, _tell(actor, filing, "办理", clock))
    return filing


async def cancel_for_institution_in(
    session: AsyncSession, clock: Clock, actor: Actor, psn_no: str, serial: str, reason: str
) -> Filing:
    """Cancels a 备案 the same institution filed, found by its serial; without committing.
    Another institution's, another person's or an unknown serial answer alike: no such 备案."""
    person_id = await _person_by_psn_no(session, psn_no)
    row = await repository.filing_by_serial(session, serial, lock=True)
    if row is None or row.person_id != person_id or row.created_by != actor.label:
        raise UnknownFiling("没有这份备案（待遇申报明细流水号、人员编号或申报机构不符）")
    return await _cancel_row(session, clock, actor, row, reason)


async def _owned(session: AsyncSession, person_id: int, filing_id: int) -> FilingRow:
    row = await repository.filing_row(session, filing_id, lock=True)
    if row.person_id != person_id:
        raise UnknownFiling("没有这份备案")  # another person's 备案 answers as missing
    return row


def _end(row: FilingRow, state: FilingState, actor: Actor, reason: str, clock: Clock) -> None:
    row.state = state.value
    row.ended_at = clock.now()
    row.ended_by = actor.label
    row.end_reason = reason or None


async def _cancel_row(
    session: AsyncSession, clock: Clock, actor: Actor, row: FilingRow, reason: str
) -> Filing:
    reason = check_text(reason, "reason 撤销原因", 200, required=False)
    filing = repository.to_filing(row)
    rules = await repository.rules_of(session, row.insured_admdvs)
    check_may_end(filing, china_today(clock), rules, "撤销")
    _end(row, FilingState.CANCELLED, actor, reason, clock)
    await session.flush()
    await _audit(
        session,
        actor,
        "filings.cancelled",
        row.person_id,
        {**_detail(filing), "reason": reason},
        clock,
    )
    notifications_repository.add_new(session, _tell(actor, filing, "撤销", clock))
    return repository.to_filing(row)


async def cancel(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    person_id: int,
    filing_id: int,
    reason: str,
) -> Filing:
    """撤销: ends an active 备案 (a long-term one only after the region's minimum)."""
    try:
        row = await _owned(session, person_id, filing_id)
        done = await _cancel_row(session, clock, actor, row, reason)
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    return done


async def change(
    session: AsyncSession,
    clock: Clock,
    actor: Actor,
    person_id: int,
    filing_id: int,
    application: Application,
    *,
    store: uploads.DocumentStore | None = None,
) -> Filing:
    """变更: the old 备案 becomes 已变更 and a new one takes its place, in one commit."""
    try:
        row = await _owned(session, person_id, filing_id)
        old = repository.to_filing(row)
        rules = await repository.rules_of(session, row.insured_admdvs)
        check_may_end(old, china_today(clock), rules, "变更")
        new, stored_name = await _new_filing(
            session, clock, store, actor, person_id, application, replacing=old
        )
        _end(row, FilingState.CHANGED, actor, f"变更为备案 {new.id}", clock)
        await session.flush()
        await _audit(
            session,
            actor,
            "filings.changed",
            person_id,
            {**_detail(new), "replaces": old.id},
            clock,
        )
        notifications_repository.add_new(session, _tell(actor, new, "变更", clock))
    except BaseException:
        await session.rollback()
        raise
    await _commit_or_forget(session, store, stored_name)
    return new


async def filings_of(session: AsyncSession, person_id: int) -> list[Filing]:
    return await repository.filings_of(session, person_id)


async def filing_of(session: AsyncSession, person_id: int, filing_id: int) -> Filing:
    row = await repository.filing_row(session, filing_id)
    if row.person_id != person_id:
        raise UnknownFiling("没有这份备案")
    return repository.to_filing(row)


async def documents_of(
    session: AsyncSession, person_id: int, filing_id: int
) -> list[FilingDocument]:
    await filing_of(session, person_id, filing_id)
    return await repository.documents_of(session, filing_id)


@dataclass(frozen=True, slots=True)
class CounterView:
    person_name: str
    filings: list[Filing]
    rules: RegionFilingRules | None  # None: not insured (nothing can be filed)


async def filings_for_staff(
    session: AsyncSession, clock: Clock, staff: StaffActor, person_id: int, reason: str
) -> CounterView:
    """The person's 备案 at the counter, recorded on their 查询记录 before it is shown."""
    if not staff.roles & COUNTER_ROLES:
        raise FilingNotAllowed("只有经办人员可以查看异地就医备案")
    if reason not in LOOKUP_REASONS:
        raise LookupReasonRequired("请先选择查询事由")
    person = await enrolment_repository.person(session, person_id)
    if person is None:
        raise UnknownPerson("没有找到该参保人")
    await audit_repository.record_staff_action(
        session, staff, "filings.view", person_id, reason, {}, clock.now()
    )
    enrolment = await enrolment_repository.main_enrolment(session, person_id)
    rules = await repository.rules_of(session, enrolment.admdvs) if enrolment else None
    view = CounterView(person.name, await repository.filings_of(session, person_id), rules)
    await session.commit()
    return view
