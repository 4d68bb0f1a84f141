"""Queries on hotline calls, on the caller's session. Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.calls.tables import HotlineCall


async def by_ref(session: AsyncSession, call_ref: str, *, lock: bool = False) -> HotlineCall | None:
    stmt = select(HotlineCall).where(HotlineCall.call_ref == call_ref)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def by_id(session: AsyncSession, call_id: int, *, lock: bool = False) -> HotlineCall | None:
    stmt = select(HotlineCall).where(HotlineCall.id == call_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def waiting(session: AsyncSession, limit: int = 50) -> list[HotlineCall]:
    """Calls that asked for an agent, still on the line, not yet taken: the longest wait first."""
    stmt = (
        select(HotlineCall)
        .where(
            HotlineCall.queued_at.is_not(None),
            HotlineCall.taken_at.is_(None),
            HotlineCall.ended_at.is_(None),
        )
        .order_by(HotlineCall.queued_at, HotlineCall.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def taken_by(session: AsyncSession, staff_id: int, limit: int = 20) -> list[HotlineCall]:
    stmt = (
        select(HotlineCall)
        .where(HotlineCall.agent_staff_id == staff_id, HotlineCall.ended_at.is_(None))
        .order_by(HotlineCall.taken_at.desc())
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def started_between(
    session: AsyncSession, since: datetime, until: datetime
) -> list[HotlineCall]:
    stmt = (
        select(HotlineCall)
        .where(HotlineCall.started_at >= since, HotlineCall.started_at < until)
        .order_by(HotlineCall.started_at)
    )
    return list((await session.execute(stmt)).scalars())


def add(session: AsyncSession, call: HotlineCall) -> None:
    session.add(call)
