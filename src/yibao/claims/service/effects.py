"""What every claim, dispute and adjustment use case does alongside its change: tell the person
(outbox, rule 10) and record staff actions on the audit trail (rule 8)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import repository as audit_repository
from yibao.audit.domain import ActorType
from yibao.claims.domain import StaffActor
from yibao.notifications import repository as notifications
from yibao.notifications.domain import Channel


async def notify(
    session: AsyncSession, person_id: int, dedup_key: str, subject: str, body: str, now: datetime
) -> None:
    await notifications.enqueue(
        session,
        channel=Channel.INAPP,
        dedup_key=dedup_key,
        subject=subject,
        body=body,
        now=now,
        person_id=person_id,
    )


async def audit_staff(
    session: AsyncSession,
    staff: StaffActor,
    action: str,
    person_id: int | None,
    reason: str,
    detail: dict[str, Any],
    now: datetime,
) -> None:
    await audit_repository.record(
        session,
        actor_type=ActorType.STAFF.value,
        actor_id=staff.staff_id,
        actor_name=staff.name,
        role=staff.role,
        office=staff.office,
        action=action,
        subject_person_id=person_id,
        reason=reason,
        detail=detail,
        now=now,
    )
