"""What every claim, dispute and adjustment use case does alongside its change: tell the person
(outbox, rule 10) and record staff actions on the audit trail (rule 8)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

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
