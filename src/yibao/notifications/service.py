"""The worker's use case (deliver what is due in the outbox, one committed batch at a time) and
the person's 消息 (read their own notices, mark them read)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment import repository as enrolment_repository
from yibao.kernel.clock import Clock
from yibao.kernel.pii import PersonalDataCipher
from yibao.notifications import repository
from yibao.notifications.domain import (
    MAX_ATTEMPTS,
    MAX_NOTICES_PAGE_SIZE,
    SEALED_BODY_PURPOSE,
    Channel,
    OutboxStatus,
    UnknownNotice,
    backoff,
)
from yibao.notifications.senders import SmsSender

# A notice as the channels show it (they do not import `notifications.tables`).
from yibao.notifications.tables import Notice as Notice
from yibao.notifications.tables import OutboxMessage


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
                await sms.send(phone, text_to_send(cipher, message))
        except Exception as exc:
            message.last_error = str(exc)[:500]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = OutboxStatus.FAILED.value
                message.body_enc = None  # given up: the secret goes nowhere now
            else:
                message.next_attempt_at = now + backoff(message.attempts)
            continue
        message.status = OutboxStatus.SENT.value
        message.sent_at = now
        message.body_enc = None  # delivered: the outbox keeps no secret past delivery
    await session.commit()
    return len(due)


def text_to_send(cipher: PersonalDataCipher, message: OutboxMessage) -> str:
    """The message's full text: the sealed one while it holds a secret, else its body."""
    if message.body_enc is None:
        return message.body
    return cipher.decrypt(message.body_enc, purpose=SEALED_BODY_PURPOSE)


@dataclass(frozen=True, slots=True)
class Inbox:
    notices: list[Notice]
    unread: int
    next_before: int | None  # the cursor of the next (older) page, when there may be one


async def inbox(
    session: AsyncSession, person_id: int, *, limit: int, before_id: int | None = None
) -> Inbox:
    limit = max(1, min(limit, MAX_NOTICES_PAGE_SIZE))
    rows = await repository.notices_page(session, person_id, limit=limit + 1, before_id=before_id)
    more = len(rows) > limit
    rows = rows[:limit]
    return Inbox(
        notices=rows,
        unread=await repository.unread_count(session, person_id),
        next_before=rows[-1].id if more else None,
    )


async def unread_count(session: AsyncSession, person_id: int) -> int:
    return await repository.unread_count(session, person_id)


async def open_notice(
    session: AsyncSession, clock: Clock, person_id: int, notice_id: int
) -> Notice:
    """The person's own notice, marked read the first time it is opened."""
    notice = await repository.notice_of(session, person_id, notice_id)
    if notice is None:
        raise UnknownNotice("没有找到这条消息")
    if notice.read_at is None:
        notice.read_at = clock.now()
        await session.commit()
    return notice


async def mark_all_read(session: AsyncSession, clock: Clock, person_id: int) -> int:
    marked = await repository.mark_all_read(session, person_id, clock.now())
    await session.commit()
    return marked


async def credit_sms_wanted(session: AsyncSession, person_id: int) -> bool:
    """Whether the person asked for an SMS of each credit to their account (default: no)."""
    found = await repository.preference(session, person_id)
    return bool(found and found.credit_sms)


async def set_credit_sms(session: AsyncSession, clock: Clock, person_id: int, on: bool) -> None:
    await repository.set_credit_sms(session, person_id, on, clock.now())
    await session.commit()
