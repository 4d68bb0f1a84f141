"""Queries and row locks for claims, disputes and adjustment proposals. Never commits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.claims.domain import ClaimStatus, DisputeStatus, ProposalStatus
from yibao.claims.tables import AdjustmentProposal, Claim, ClaimAttachment, ClaimStep, Dispute


async def claim_by_key(session: AsyncSession, person_id: int, request_key: str) -> Claim | None:
    stmt = select(Claim).where(Claim.person_id == person_id, Claim.request_key == request_key)
    return (await session.execute(stmt)).scalar_one_or_none()


async def claim_of_person(
    session: AsyncSession, person_id: int, claim_id: int, *, lock: bool = False
) -> Claim | None:
    """A claim only through its owner: another person's id finds nothing (no IDOR)."""
    stmt = select(Claim).where(Claim.id == claim_id, Claim.person_id == person_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def claim_by_id(session: AsyncSession, claim_id: int, *, lock: bool = False) -> Claim | None:
    stmt = select(Claim).where(Claim.id == claim_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def claims_of(session: AsyncSession, person_id: int, limit: int = 50) -> list[Claim]:
    stmt = (
        select(Claim)
        .where(Claim.person_id == person_id)
        .order_by(Claim.submitted_at.desc(), Claim.id.desc())
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def steps_of(session: AsyncSession, claim_id: int) -> list[ClaimStep]:
    stmt = (
        select(ClaimStep).where(ClaimStep.claim_id == claim_id).order_by(ClaimStep.at, ClaimStep.id)
    )
    return list((await session.execute(stmt)).scalars())


async def attachments_of(session: AsyncSession, claim_id: int) -> list[ClaimAttachment]:
    stmt = (
        select(ClaimAttachment)
        .where(ClaimAttachment.claim_id == claim_id)
        .order_by(ClaimAttachment.round, ClaimAttachment.id)
    )
    return list((await session.execute(stmt)).scalars())


async def attachment(
    session: AsyncSession, claim_id: int, attachment_id: int
) -> ClaimAttachment | None:
    stmt = select(ClaimAttachment).where(
        ClaimAttachment.id == attachment_id, ClaimAttachment.claim_id == claim_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def review_queue(
    session: AsyncSession, statuses: list[ClaimStatus], limit: int = 100
) -> list[Claim]:
    """Oldest first: claims wait in the order they arrived."""
    stmt = (
        select(Claim)
        .where(Claim.status.in_([s.value for s in statuses]))
        .order_by(Claim.submitted_at, Claim.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def add(
    session: AsyncSession, row: Claim | ClaimStep | ClaimAttachment | Dispute | AdjustmentProposal
) -> None:
    session.add(row)
    await session.flush()


# --- disputes ---------------------------------------------------------------------------------


async def open_dispute_for(
    session: AsyncSession,
    person_id: int,
    *,
    ledger_entry_id: int | None = None,
    audit_record_id: int | None = None,
) -> Dispute | None:
    stmt = select(Dispute).where(
        Dispute.person_id == person_id, Dispute.status == DisputeStatus.OPEN.value
    )
    if ledger_entry_id is not None:
        stmt = stmt.where(Dispute.ledger_entry_id == ledger_entry_id)
    if audit_record_id is not None:
        stmt = stmt.where(Dispute.audit_record_id == audit_record_id)
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def dispute_by_id(
    session: AsyncSession, dispute_id: int, *, lock: bool = False
) -> Dispute | None:
    stmt = select(Dispute).where(Dispute.id == dispute_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def disputes_of(session: AsyncSession, person_id: int, limit: int = 50) -> list[Dispute]:
    stmt = (
        select(Dispute)
        .where(Dispute.person_id == person_id)
        .order_by(Dispute.created_at.desc(), Dispute.id.desc())
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def dispute_queue(session: AsyncSession, limit: int = 100) -> list[Dispute]:
    stmt = (
        select(Dispute)
        .where(Dispute.status == DisputeStatus.OPEN.value)
        .order_by(Dispute.created_at, Dispute.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


# --- adjustment proposals ---------------------------------------------------------------------


async def proposal_by_id(
    session: AsyncSession, proposal_id: int, *, lock: bool = False
) -> AdjustmentProposal | None:
    stmt = select(AdjustmentProposal).where(AdjustmentProposal.id == proposal_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def pending_proposals(session: AsyncSession, limit: int = 100) -> list[AdjustmentProposal]:
    stmt = (
        select(AdjustmentProposal)
        .where(AdjustmentProposal.status == ProposalStatus.PROPOSED.value)
        .order_by(AdjustmentProposal.proposed_at, AdjustmentProposal.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def open_proposal_for_entry(
    session: AsyncSession, entry_id: int
) -> AdjustmentProposal | None:
    stmt = select(AdjustmentProposal).where(
        AdjustmentProposal.reverses_entry_id == entry_id,
        AdjustmentProposal.status == ProposalStatus.PROPOSED.value,
    )
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()
