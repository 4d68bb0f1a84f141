"""The outbox for batch jobs (a province's monthly crediting): many messages in one statement,
each once (a dedup key already queued is skipped). Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.db.bulk import Together, arrays, unnest
from yibao.db.direct import Sql, direct
from yibao.notifications.domain import Channel, OutboxStatus
from yibao.notifications.tables import NoticePreference, OutboxMessage

_OUTBOX = cast(Table, OutboxMessage.__table__)
_PREFERENCES = cast(Table, NoticePreference.__table__)
_SMS_WANTED = Sql(
    "SELECT person_id FROM notice_preferences WHERE person_id = ANY(:ids::bigint[]) AND credit_sms"
)
# Bound parameters per IN list on SQLite (its limit is 32766; asyncpg takes one array).
_PER_LIST = 1000


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


# In-app notices, and beside each the same words by SMS for the persons who asked for an SMS of
# each credit (notice_preferences.credit_sms): one statement, no lookup first.
_ENQUEUE_CREDITS = Sql(
    f"""
    INSERT INTO outbox_messages ({", ".join(_NAMES)}, status, attempts, next_attempt_at,
                                 created_at)
    SELECT m.channel, m.dedup_key, m.person_id, m.subject, m.body, :status, 0,
           :now::timestamptz, :now::timestamptz
    FROM (
      SELECT {", ".join(f"u.{n}" for n in _NAMES)} FROM {unnest(_COLUMNS)}
      UNION ALL
      SELECT 'sms', 'sms:' || u.dedup_key, u.person_id, u.subject, u.body
      FROM {unnest(_COLUMNS)}
      JOIN notice_preferences np ON np.person_id = u.person_id AND np.credit_sms
      WHERE u.channel = 'inapp'
    ) AS m
    ON CONFLICT (dedup_key) DO NOTHING
    """  # noqa: S608 - fixed fragments; values bound
)


async def enqueue_credit_notices(
    session: AsyncSession,
    messages: Sequence[NewMessage],
    now: datetime,
    *,
    together: Together | None = None,
) -> None:
    """Each in-app notice of a credit, and its SMS for those who asked for it (`with_sms`): one
    statement on PostgreSQL (joining `together`'s when given), a lookup then the writes
    elsewhere."""
    if not messages:
        return
    db = await direct(session, transaction=True)
    if not db.postgres:
        wanted = await credit_sms_wanted(session, [m.person_id for m in messages])
        await enqueue_many(session, with_sms(messages, wanted), now)
        return
    rows = [(m.channel.value, m.dedup_key, m.person_id, m.subject, m.body) for m in messages]
    params = {"status": OutboxStatus.PENDING.value, "now": now, **arrays(_NAMES, rows)}
    if together is not None:
        together.add(_ENQUEUE_CREDITS.text, params)
    else:
        await db.execute(_ENQUEUE_CREDITS, **params)


async def credit_sms_wanted(session: AsyncSession, person_ids: Sequence[int]) -> set[int]:
    """Those of `person_ids` who asked for an SMS of each credit (notice_preferences.credit_sms):
    a province's run sends SMS only to them, so the gateway carries what people asked for."""
    ids = sorted(set(person_ids))
    db = await direct(session, transaction=True)
    if db.postgres:
        return {r["person_id"] for r in await db.fetch(_SMS_WANTED, ids=ids)}
    found: set[int] = set()
    table = _PREFERENCES
    for start in range(0, len(ids), _PER_LIST):
        stmt = select(table.c.person_id).where(
            table.c.person_id.in_(ids[start : start + _PER_LIST]), table.c.credit_sms.is_(True)
        )
        found.update(r.person_id for r in (await session.execute(stmt)).all())
    return found


def with_sms(messages: Sequence[NewMessage], wanted: set[int]) -> list[NewMessage]:
    """Each in-app notice, and beside it the same words by SMS for the persons in `wanted`."""
    out = list(messages)
    out.extend(
        NewMessage(Channel.SMS, f"sms:{m.dedup_key}", m.person_id, m.subject, m.body)
        for m in messages
        if m.channel is Channel.INAPP and m.person_id in wanted
    )
    return out
