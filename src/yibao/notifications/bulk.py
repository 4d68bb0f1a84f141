"""The outbox for batch jobs (a province's monthly crediting): many messages in one statement,
each once (a dedup key already queued is skipped). Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.db.bulk import arrays, unnest
from yibao.db.direct import Sql, direct
from yibao.notifications.domain import Channel, OutboxStatus
from yibao.notifications.tables import OutboxMessage

_OUTBOX = cast(Table, OutboxMessage.__table__)


@dataclass(frozen=True, slots=True)
class NewMessage:
    channel: Channel
    dedup_key: str
    person_id: int
    subject: str
    body: str


_COLUMNS = (
    ("channel", "text"),
    ("dedup_key", "text"),
    ("person_id", "bigint"),
    ("subject", "text"),
    ("body", "text"),
)
_NAMES = [n for n, _ in _COLUMNS]
_ENQUEUE = Sql(
    f"""
    INSERT INTO outbox_messages ({", ".join(_NAMES)}, status, attempts, next_attempt_at,
                                 created_at)
    SELECT {", ".join(f"u.{n}" for n in _NAMES)}, :status, 0, :now::timestamptz,
           :now::timestamptz
    FROM {unnest(_COLUMNS)}
    ON CONFLICT (dedup_key) DO NOTHING
    """  # noqa: S608 - fixed fragments; values bound
)


async def enqueue_many(
    session: AsyncSession, messages: Sequence[NewMessage], now: datetime
) -> None:
    if not messages:
        return
    rows = [(m.channel.value, m.dedup_key, m.person_id, m.subject, m.body) for m in messages]
    db = await direct(session, transaction=True)
    if db.postgres:
        await db.execute(
            _ENQUEUE, status=OutboxStatus.PENDING.value, now=now, **arrays(_NAMES, rows)
        )
        return
    stmt = sqlite.insert(_OUTBOX).on_conflict_do_nothing(index_elements=["dedup_key"])
    await session.execute(
        stmt,
        [
            dict(zip(_NAMES, r, strict=True))
            | {
                "status": OutboxStatus.PENDING.value,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for r in rows
        ],
    )
