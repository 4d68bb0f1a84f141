"""What the counter's workbench shows of one person, read-only, each opening recorded.

Spans enrolment, contributions, the ledger and this feature's own cases; the statements and
family features add their views (statement PDF, authorisations) beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import repository as audit_repository
from yibao.audit.domain import LOOKUP_REASONS, LookupReasonRequired
from yibao.claims import repository
from yibao.claims.domain import APPROVE_ROLES, StaffActor, check_roles
from yibao.claims.tables import AdjustmentProposal, Claim, Dispute
from yibao.contributions import repository as contributions_repository
from yibao.contributions.tables import Contribution
from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.domain import UnknownPerson
from yibao.enrolment.tables import Enrolment, Person
from yibao.identity import repository as identity_repository
from yibao.identity.domain import SecurityEventKind, UnknownAccount, after_success
from yibao.kernel.clock import Clock
from yibao.ledger import repository as ledger_repository


@dataclass(frozen=True, slots=True)
class PersonOverview:
    person: Person
    enrolments: list[Enrolment]
    account: ledger_repository.PersonalAccount | None
    entries: list[ledger_repository.LedgerEntry]
    contributions: list[Contribution]
    claims: list[Claim]
    disputes: list[Dispute]


async def person_overview(
    session: AsyncSession, clock: Clock, staff: StaffActor, person_id: int, reason: str
) -> PersonOverview:
    """Everything the counter may see of a person, masked; recorded on their 查询记录 first."""
    person = await enrolment_repository.person(session, person_id)
    if person is None:
        raise UnknownPerson("没有找到该参保人")
    if reason not in LOOKUP_REASONS:
        raise LookupReasonRequired("请先选择查询事由")
    await audit_repository.record_staff_action(
        session, staff, "person.view", person.id, reason, {}, clock.now()
    )
    account = await ledger_repository.account_for_person(session, person.id)
    entries = await ledger_repository.entries_page(session, account.id, limit=20) if account else []
    overview = PersonOverview(
        person=person,
        enrolments=await enrolment_repository.enrolments_of(session, person.id),
        account=account,
        entries=entries,
        contributions=(await contributions_repository.for_person(session, person.id))[:12],
        claims=await repository.claims_of(session, person.id, limit=20),
        disputes=await repository.disputes_of(session, person.id, limit=20),
    )
    await session.commit()
    return overview


async def pending_adjustments(session: AsyncSession, staff: StaffActor) -> list[AdjustmentProposal]:
    check_roles(staff, APPROVE_ROLES | {"clerk"}, "查看账户调整")
    return await repository.pending_proposals(session)


UNLOCK_ROLES = frozenset({"clerk", "admin"})


async def unlock_online_account(
    session: AsyncSession, clock: Clock, staff: StaffActor, person_id: int, reason: str
) -> bool:
    """Unlock a person's online account at the counter or on the hotline, recorded on identity's
    security events and on the audit trail. False when it was not locked."""
    check_roles(staff, UNLOCK_ROLES, "解锁网上账户")
    if reason not in LOOKUP_REASONS:
        raise LookupReasonRequired("请先选择查询事由")
    found = await identity_repository.account_of_person(session, person_id)
    if found is None:
        raise UnknownAccount("该参保人尚未开通网上账户")
    account = await identity_repository.account(session, found.id, lock=True)
    assert account is not None
    now = clock.now()
    was_locked = identity_repository.lock_state(account).is_locked(now)
    identity_repository.set_lock_state(account, after_success())
    identity_repository.record_event(
        session,
        SecurityEventKind.UNLOCKED,
        now,
        channel="staff",
        account_id=account.id,
        person_id=person_id,
        staff_id=staff.staff_id,
    )
    await audit_repository.record_staff_action(
        session, staff, "account.unlock", person_id, reason, {"was_locked": was_locked}, now
    )
    await session.commit()
    return was_locked
