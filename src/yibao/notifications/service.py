"""The worker's use case: deliver what is due in the outbox, one committed batch at a time."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment import repository as enrolment_repository
from yibao.kernel.clock import Clock
from yibao.kernel.pii import PersonalDataCipher
from yibao.notifications import repository
from yibao.notifications.domain import MAX_ATTEMPTS, Channel, OutboxStatus, backoff
from yibao.notifications.senders import SmsSender
from yibao.notifications.tables import Notice


async def deliver_due(
    session: AsyncSession,
    clock: Clock,
    cipher: PersonalDataCipher,
    sms: SmsSender,
    limit: int = 50,
) -> int:
    """Deliver up to `limit` due messages; returns how many were handled."""
    now = clock.now()
    due = await repository.claim_due(session, now, limit)
    for message in due:
        message.attempts += 1
        try:
            if message.channel == Channel.INAPP:
                if message.person_id is not None:
                    session.add(
                        Notice(
                            person_id=message.person_id,
                            subject=message.subject,
                            body=message.body,
                            outbox_id=message.id,
                            created_at=now,
                        )
                    )
            else:
                phone = None
                if message.phone_enc is not None:
                    phone = cipher.decrypt(
                        message.phone_enc, purpose=enrolment_repository.PHONE_PURPOSE
                    )
                elif message.person_id is not None:
                    person = await enrolment_repository.person(session, message.person_id)
                    if person is not None:
                        phone = enrolment_repository.decrypt_phone(cipher, person)
                if phone is None:
                    raise LookupError("no phone number to send to")
                await sms.send(phone, message.body)
        except Exception as exc:
            message.last_error = str(exc)[:500]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = OutboxStatus.FAILED.value
            else:
                message.next_attempt_at = now + backoff(message.attempts)
            continue
        message.status = OutboxStatus.SENT.value
        message.sent_at = now
    await session.commit()
    return len(due)
