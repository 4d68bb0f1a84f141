"""Maker-checker use cases: one staff member proposes an adjustment or a reversal with a reason;
a different administrator approves it, and only then is the ledger entry posted."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import repository as audit_repository
from yibao.claims import repository
from yibao.claims.domain import (
    APPROVE_ROLES,
    PROPOSE_ROLES,
    AdjustmentKind,
    InvalidProposal,
    ProposalNotFound,
    ProposalStatus,
    StaffActor,
    check_checker,
    check_proposal,
    check_roles,
)
from yibao.claims.service.effects import notify
from yibao.claims.tables import AdjustmentProposal
from yibao.kernel.clock import Clock
from yibao.kernel.money import format_yuan
from yibao.ledger import repository as ledger_repository
from yibao.ledger.domain import AlreadyReversed, EntryKind, NoPersonalAccount, UnknownEntry


async def propose_adjustment(
    session: AsyncSession,
    clock: Clock,
    staff: StaffActor,
    *,
    person_id: int,
    kind: str,
    reason: str,
    amount_fen: int | None = None,
    entry_id: int | None = None,
) -> AdjustmentProposal:
    check_roles(staff, PROPOSE_ROLES, "提出账户调整")
    reason = check_proposal(kind, amount_fen, entry_id, reason)
    account = await ledger_repository.account_for_person(session, person_id)
    if account is None:
        raise NoPersonalAccount("该参保人没有职工医保个人账户")
    if kind == AdjustmentKind.REVERSAL:
        assert entry_id is not None
        entry = await ledger_repository.entry_by_id(session, entry_id)
        if entry is None or entry.account_id != account.id:
            raise UnknownEntry("该记录不属于此参保人的账户")
        if entry.kind == EntryKind.REVERSAL:
            raise InvalidProposal("冲正记录不能再次冲正，请提出经办调整")
        if await ledger_repository.reversal_of(session, entry.id) is not None:
            raise AlreadyReversed("该记录已冲正")
        if await repository.open_proposal_for_entry(session, entry.id) is not None:
            raise InvalidProposal("该记录已有待复核的冲正申请")
        amount_fen = None
    now = clock.now()
    proposal = AdjustmentProposal(
        person_id=person_id,
        account_id=account.id,
        kind=kind,
        amount_fen=amount_fen,
        reverses_entry_id=entry_id if kind == AdjustmentKind.REVERSAL else None,
        reason=reason,
        proposed_by_staff_id=staff.staff_id,
        proposed_by_name=staff.name,
        proposed_at=now,
        status=ProposalStatus.PROPOSED.value,
    )
    await repository.add(session, proposal)
    await audit_repository.record_staff_action(
        session,
        staff,
        "adjustment.propose",
        person_id,
        reason,
        {"proposal_id": proposal.id, "kind": kind, "amount_fen": amount_fen, "entry_id": entry_id},
        now,
    )
    await session.commit()
    return proposal


async def _pending(session: AsyncSession, proposal_id: int) -> AdjustmentProposal:
    proposal = await repository.proposal_by_id(session, proposal_id, lock=True)
    if proposal is None:
        raise ProposalNotFound(f"没有编号为 {proposal_id} 的调整申请")
    if proposal.status != ProposalStatus.PROPOSED:
        raise InvalidProposal("该调整申请已复核")
    return proposal


async def approve_proposal(
    session: AsyncSession, clock: Clock, staff: StaffActor, proposal_id: int, *, note: str = ""
) -> AdjustmentProposal:
    check_roles(staff, APPROVE_ROLES, "复核账户调整")
    proposal = await _pending(session, proposal_id)
    check_checker(proposal.proposed_by_staff_id, staff)
    now = clock.now()
    account = await ledger_repository.lock_account(session, proposal.account_id)
    key = f"adjustment:{proposal.id}"
    if proposal.kind == AdjustmentKind.REVERSAL:
        assert proposal.reverses_entry_id is not None
        original = await ledger_repository.entry_by_id(session, proposal.reverses_entry_id)
        assert original is not None
        if await ledger_repository.reversal_of(session, original.id) is not None:
            raise AlreadyReversed("该记录已被冲正，本申请无需再过账")
        entry = await ledger_repository.reverse(
            session, account, original, idempotency_key=key, reason=proposal.reason, now=now
        )
    else:
        assert proposal.amount_fen is not None
        entry = await ledger_repository.post(
            session,
            account,
            ledger_repository.Posting(
                kind=EntryKind.STAFF_ADJUSTMENT,
                amount_fen=proposal.amount_fen,
                idempotency_key=key,
                counterparty=f"{staff.office} 经办调整",
                source_type="adjustment",
                source_id=str(proposal.id),
                reason=proposal.reason,
            ),
            now,
        )
    proposal.status = ProposalStatus.APPROVED.value
    proposal.decided_by_staff_id = staff.staff_id
    proposal.decided_by_name = staff.name
    proposal.decided_at = now
    proposal.decision_note = note.strip() or None
    proposal.ledger_entry_id = entry.id
    await audit_repository.record_staff_action(
        session,
        staff,
        "adjustment.approve",
        proposal.person_id,
        proposal.reason,
        {"proposal_id": proposal.id, "ledger_entry_id": entry.id, "amount_fen": entry.amount_fen},
        now,
    )
    await notify(
        session,
        proposal.person_id,
        f"adjustment:{proposal.id}:posted",
        "账户调整",
        f"您的个人账户有一笔经办调整 {format_yuan(entry.amount_fen)} 元：{proposal.reason}",
        now,
    )
    await session.commit()
    return proposal


async def reject_proposal(
    session: AsyncSession, clock: Clock, staff: StaffActor, proposal_id: int, *, note: str
) -> AdjustmentProposal:
    check_roles(staff, APPROVE_ROLES, "复核账户调整")
    note = note.strip()
    if len(note) < 2:
        raise InvalidProposal("请写明退回原因")
    proposal = await _pending(session, proposal_id)
    check_checker(proposal.proposed_by_staff_id, staff)
    now = clock.now()
    proposal.status = ProposalStatus.REJECTED.value
    proposal.decided_by_staff_id = staff.staff_id
    proposal.decided_by_name = staff.name
    proposal.decided_at = now
    proposal.decision_note = note
    await audit_repository.record_staff_action(
        session,
        staff,
        "adjustment.reject",
        proposal.person_id,
        note,
        {"proposal_id": proposal.id},
        now,
    )
    await session.commit()
    return proposal
