"""A person's session at a kiosk: checked on every page (kiosk key and session token), each
read recorded on their 查询记录 before anything is shown, ended by 退出, idleness, the card
leaving, the kiosk's revocation or the server's start."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import repository as audit_repository
from yibao.audit.domain import ActorType
from yibao.kernel.clock import Clock
from yibao.kiosks import repository
from yibao.kiosks.domain import (
    END_MESSAGES,
    CardState,
    EndReason,
    KioskSessionEnded,
    is_idle,
    key_digest,
    who,
)
from yibao.kiosks.service.devices import authenticate
from yibao.kiosks.tables import Kiosk, KioskSession


@dataclass(frozen=True, slots=True)
class KioskState:
    """What the kiosk's screen polls for: the card in the reader and whether its session lives."""

    card: str
    message: str | None
    session: bool
    ended: str | None  # why the session this browser held ended


@dataclass(frozen=True, slots=True)
class Open:
    kiosk_id: str
    place: str
    session_id: int
    person_id: int
    method: str


async def _session_of(session: AsyncSession, kiosk: Kiosk, token: str) -> KioskSession | None:
    if not token or len(token) > 200:
        return None
    row = await repository.session_by_token(session, key_digest(token))
    return row if row is not None and row.kiosk_id == kiosk.id else None


async def state(session: AsyncSession, clock: Clock, key: str, token: str) -> KioskState:
    """Read-only, and not a touch: polling never keeps an idle session alive."""
    kiosk = await authenticate(session, key)
    row = await _session_of(session, kiosk, token)
    alive = row is not None and row.ended_at is None and not is_idle(row.last_touch_at, clock.now())
    ended = None
    if row is not None and not alive:
        ended = row.end_reason or EndReason.IDLE.value
    return KioskState(
        card=kiosk.card_state,
        message=kiosk.card_message if kiosk.card_state != CardState.PRESENT else None,
        session=alive,
        ended=ended,
    )


async def touch(session: AsyncSession, clock: Clock, key: str, token: str) -> Open:
    """The open session behind the browser's token (a page view or a tap); the touch commits."""
    kiosk = await authenticate(session, key)
    row = await _session_of(session, kiosk, token)
    now = clock.now()
    if row is None:
        raise KioskSessionEnded("请先插入社保卡或扫码验证身份")
    if row.ended_at is None and is_idle(row.last_touch_at, now):
        await repository.end_session(session, row, EndReason.IDLE, now)
        await session.commit()
    if row.ended_at is not None:
        reason = EndReason(row.end_reason or EndReason.IDLE.value)
        raise KioskSessionEnded(END_MESSAGES[reason])
    row.last_touch_at = now
    opened = Open(kiosk.id, kiosk.place, row.id, row.person_id, row.method)
    await session.commit()
    return opened


async def record_read(
    session: AsyncSession,
    clock: Clock,
    key: str,
    token: str,
    action: str,
    detail: dict[str, Any],
) -> Open:
    """Checks the session and records the read on the person's 查询记录, committed before the
    page shows anything."""
    opened = await touch(session, clock, key, token)
    await audit_repository.record(
        session,
        actor_type=ActorType.SYSTEM.value,
        actor_id=opened.kiosk_id,
        actor_name=who(opened.place),
        role="kiosk",
        office=opened.place,
        action=action,
        subject_person_id=opened.person_id,
        reason="kiosk",
        detail={"session": opened.session_id, **detail},
        now=clock.now(),
    )
    await session.commit()
    return opened


async def end(session: AsyncSession, clock: Clock, key: str, token: str, reason: EndReason) -> str:
    """退出 or the idle countdown: ends the browser's session (if any) and says why."""
    kiosk = await authenticate(session, key)
    row = await _session_of(session, kiosk, token)
    if row is not None:
        await repository.end_session(session, row, reason, clock.now())
        await session.commit()
    return END_MESSAGES[reason]


async def end_sessions_left_open(session: AsyncSession, clock: Clock) -> int:
    """At server start: every kiosk session still open ends, whatever its age.

    Chosen over a hard expiry checked on each request because a stopped server missed the card
    readers' reports: a card taken out (or a person walking away) while it was down was never
    recorded, so a session opened before the stop cannot be trusted for even one more request,
    and any expiry long enough for a real visit would leave that window open. The cost is that
    whoever is at a kiosk when a server process starts identifies again."""
    ended = await repository.end_sessions(session, None, EndReason.RESTARTED, clock.now())
    await session.commit()
    return ended
