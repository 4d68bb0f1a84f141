"""The read side of claims: 报销进度 for the person, the staff's view and queues, documents.

Only the staff reads commit (`claim_for_staff`, `attachment_for_staff`), and only their audit
record: each read is on the person's 查询记录 before anything is shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import repository as audit_repository
from yibao.claims import repository
from yibao.claims.domain import ClaimEvent, ClaimNotFound, ClaimStatus, check_staff_may
from yibao.claims.tables import Claim, ClaimAttachment, ClaimStep
from yibao.kernel.actors import StaffActor
from yibao.kernel.clock import Clock
from yibao.kernel.uploads import DocumentStore


@dataclass(frozen=True, slots=True)
class ClaimProgress:
    claim: Claim
    steps: list[ClaimStep]
    attachments: list[ClaimAttachment]


async def progress_for_person(
    session: AsyncSession, person_id: int, claim_id: int
) -> ClaimProgress:
    """报销进度 of one of the person's own claims."""
    claim = await repository.claim_of_person(session, person_id, claim_id)
    if claim is None:
        raise ClaimNotFound("没有找到这笔报销申请")
    return ClaimProgress(
        claim,
        await repository.steps_of(session, claim.id),
        await repository.attachments_of(session, claim.id),
    )


async def claim_for_staff(
    session: AsyncSession, clock: Clock, staff: StaffActor, claim_id: int, reason: str
) -> ClaimProgress:
    """A staff member opens a claim: the read is on the person's 查询记录."""
    claim = await repository.claim_by_id(session, claim_id)
    if claim is None:
        raise ClaimNotFound(f"没有编号为 {claim_id} 的报销申请")
    await audit_repository.record_staff_action(
        session, staff, "claim.view", claim.person_id, reason, {"claim_id": claim.id}, clock.now()
    )
    await session.commit()
    return ClaimProgress(
        claim,
        await repository.steps_of(session, claim.id),
        await repository.attachments_of(session, claim.id),
    )


async def claims_for_person(session: AsyncSession, person_id: int) -> list[Claim]:
    return await repository.claims_of(session, person_id)


async def attachment_for_person(
    session: AsyncSession, store: DocumentStore, person_id: int, claim_id: int, attachment_id: int
) -> tuple[ClaimAttachment, bytes]:
    """One of the person's own documents; any other id answers "not found"."""
    claim = await repository.claim_of_person(session, person_id, claim_id)
    attachment = (
        None if claim is None else await repository.attachment(session, claim.id, attachment_id)
    )
    if attachment is None:
        raise ClaimNotFound("没有找到这份材料")
    return attachment, await store.read(attachment.storage_name)


async def attachment_for_staff(
    session: AsyncSession,
    clock: Clock,
    store: DocumentStore,
    staff: StaffActor,
    claim_id: int,
    attachment_id: int,
) -> tuple[ClaimAttachment, bytes]:
    """A medical document beside the form in the review queue: a read of its own on the
    person's 查询记录 (opening the claim does not show its documents' content)."""
    claim = await repository.claim_by_id(session, claim_id)
    attachment = (
        None if claim is None else await repository.attachment(session, claim.id, attachment_id)
    )
    if claim is None or attachment is None:
        raise ClaimNotFound("没有找到这份材料")
    await audit_repository.record_staff_action(
        session,
        staff,
        "claim.document_view",
        claim.person_id,
        "claim_review",
        {"claim_id": claim.id, "attachment_id": attachment.id, "kind": attachment.kind},
        clock.now(),
    )
    await session.commit()
    return attachment, await store.read(attachment.storage_name)


async def review_queue(session: AsyncSession, staff: StaffActor) -> list[Claim]:
    """Reviewers see what waits for review; clerks and administrators what waits for payment."""
    if "reviewer" in staff.roles:
        statuses = [ClaimStatus.SUBMITTED, ClaimStatus.UNDER_REVIEW]
    else:
        check_staff_may(ClaimEvent.PAY, staff)
        statuses = [ClaimStatus.APPROVED]
    return await repository.review_queue(session, statuses)
