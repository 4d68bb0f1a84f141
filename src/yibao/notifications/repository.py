"""Enqueue side effects inside the caller's transaction; claim due ones for the worker."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.db.direct import Step
from yibao.db.engine import is_postgres
from yibao.notifications.domain import Channel, OutboxStatus
from yibao.notifications.tables import Notice, NoticePreference, OutboxMessage


async def enqueue(
    session: AsyncSession,
    *,
    channel: Channel,
    dedup_key: str,
    subject: str,
    body: str,
    now: datetime,
    person_id: int | None = None,
    phone_enc: bytes | None = None,
    phone_masked: str | None = None,
    body_enc: bytes | None = None,
) -> OutboxMessage:
    existing = (
        await session.execute(select(OutboxMessage).where(OutboxMessage.dedup_key == dedup_key))
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    message = OutboxMessage(
        channel=channel.value,
        dedup_key=dedup_key,
        person_id=person_id,
        phone_enc=phone_enc,
        phone_masked=phone_masked,
        subject=subject,
        body=body,
        body_enc=body_enc,
        status=OutboxStatus.PENDING.value,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(message)
    await session.flush()
    return message


@dataclass(frozen=True, slots=True)
class NewMessage:
    """An outbox row about to be written, due at once (pending, no attempt yet), for a message
    whose `dedup_key` names something made in the same transaction, so it cannot exist yet: it
    goes in without `enqueue`'s look-up (the unique dedup_key still guards)."""

    channel: Channel
    dedup_key: str
    person_id: int | None
    subject: str
    body: str
    created_at: datetime


def add_new(session: AsyncSession, messages: Sequence[NewMessage]) -> None:
    """Write `messages` with the session's next flush."""
    session.add_all(
        [
            OutboxMessage(
                channel=m.channel.value,
                dedup_key=m.dedup_key,
                person_id=m.person_id,
                subject=m.subject,
                body=m.body,
                status=OutboxStatus.PENDING.value,
                attempts=0,
                next_attempt_at=m.created_at,
                created_at=m.created_at,
            )
            for m in messages
        ]
    )


# Writing messages inside another feature's one-statement write (settlement's 2207,
# settlement/repository/writing.py): the outbox's SQL is written here, the caller composes it.
_MESSAGE_COLUMNS = ("channel", "dedup_key", "person_id", "subject", "body", "created_at")


def outbox_steps(messages: Sequence[NewMessage]) -> tuple[tuple[Step, ...], dict[str, Any]]:
    """The step that writes `messages` (one multi-row INSERT) and its parameters (`n<i>_…`)."""
    params: dict[str, Any] = {}
    for n, m in enumerate(messages):
        params.update(
            {
                f"n{n}_channel": m.channel.value,
                f"n{n}_dedup_key": m.dedup_key,
                f"n{n}_person_id": m.person_id,
                f"n{n}_subject": m.subject,
                f"n{n}_body": m.body,
                f"n{n}_created_at": m.created_at,
            }
        )
    return _outbox_steps(len(messages)), params


@lru_cache(maxsize=16)
def _outbox_steps(count: int) -> tuple[Step, ...]:
    if not count:
        return ()
    rows = ", ".join(
        "("
        + ", ".join(f":n{n}_{c}" for c in _MESSAGE_COLUMNS)
        # Due at once: pending, no attempt yet, next attempt when made.
        + f", '{OutboxStatus.PENDING.value}', 0, :n{n}_created_at)"
        for n in range(count)
    )
    return (
        Step(
            "notices",
            f"INSERT INTO outbox_messages ({', '.join(_MESSAGE_COLUMNS)},"
            f" status, attempts, next_attempt_at) VALUES {rows}",
        ),
    )


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[OutboxMessage]:
    stmt = (
        select(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING.value,
            OutboxMessage.next_attempt_at <= now,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if is_postgres(session):
        # Several workers share the queue without taking each other's rows.
        stmt = stmt.with_for_update(skip_locked=True)
    return list((await session.execute(stmt)).scalars())


async def recent(
    session: AsyncSession, *, channel: Channel | None = None, limit: int = 50
) -> list[OutboxMessage]:
    stmt = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if channel is not None:
        stmt = stmt.where(OutboxMessage.channel == channel.value)
    return list((await session.execute(stmt)).scalars())


async def notices_page(
    session: AsyncSession, person_id: int, *, limit: int, before_id: int | None = None
) -> list[Notice]:
    """Newest first, by keyset on `ix_notices_person_created`: `before_id` is the last notice of
    the previous page (only the person's own counts as a cursor)."""
    stmt = select(Notice).where(Notice.person_id == person_id)
    if before_id is not None:
        cursor = await notice_of(session, person_id, before_id)
        if cursor is not None:
            stmt = stmt.where(
                Notice.created_at <= cursor.created_at,
                or_(
                    Notice.created_at < cursor.created_at,
                    Notice.id < cursor.id,
                ),
            )
    stmt = stmt.order_by(Notice.created_at.desc(), Notice.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def unread_count(session: AsyncSession, person_id: int) -> int:
    stmt = (
        select(func.count())
        .select_from(Notice)
        .where(Notice.person_id == person_id, Notice.read_at.is_(None))
    )
    return int((await session.execute(stmt)).scalar_one())


async def notice_of(session: AsyncSession, person_id: int, notice_id: int) -> Notice | None:
    """Only the person's own: another person's notice id is simply not found."""
    stmt = select(Notice).where(Notice.id == notice_id, Notice.person_id == person_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def mark_all_read(session: AsyncSession, person_id: int, now: datetime) -> int:
    stmt = (
        update(Notice)
        .where(Notice.person_id == person_id, Notice.read_at.is_(None))
        .values(read_at=now)
    )
    result = await session.execute(stmt)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def preference(session: AsyncSession, person_id: int) -> NoticePreference | None:
    return await session.get(NoticePreference, person_id)


async def set_credit_sms(session: AsyncSession, person_id: int, on: bool, now: datetime) -> None:
    found = await session.get(NoticePreference, person_id, with_for_update=True)
    if found is None:
        session.add(NoticePreference(person_id=person_id, credit_sms=on, updated_at=now))
    else:
        found.credit_sms = on
        found.updated_at = now
    await session.flush()
