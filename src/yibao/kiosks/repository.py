"""Queries and writes of the kiosks' tables, on the caller's session. Never commits.

Other features (identity, when a person identifies at a kiosk) open sessions through
`open_session`: the kiosks feature stays the one writer of its tables (rule 12)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.kiosks.domain import (
    EndReason,
    KioskRevoked,
    Method,
    PrintState,
    UnknownKiosk,
    key_digest,
)
from yibao.kiosks.tables import Kiosk, KioskPrintJob, KioskSession


async def kiosk(session: AsyncSession, kiosk_id: str, *, lock: bool = False) -> Kiosk | None:
    stmt = select(Kiosk).where(Kiosk.id == kiosk_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def kiosk_by_key(session: AsyncSession, key: str) -> Kiosk | None:
    stmt = select(Kiosk).where(Kiosk.key_hash == key_digest(key))
    return (await session.execute(stmt)).scalar_one_or_none()


async def authenticated_kiosk(session: AsyncSession, key: str) -> Kiosk:
    """The kiosk a key belongs to, on every call: unknown and revoked keys are refused."""
    found = await kiosk_by_key(session, key) if key and len(key) <= 200 else None
    if found is None:
        raise UnknownKiosk("本机尚未登记为自助查询机，请联系工作人员")
    if found.revoked_at is not None:
        raise KioskRevoked("本机已停用，请到其他自助查询机或窗口办理")
    return found


async def all_kiosks(session: AsyncSession) -> list[Kiosk]:
    return list((await session.execute(select(Kiosk).order_by(Kiosk.id))).scalars())


async def sessions_on(session: AsyncSession, day: date) -> dict[str, int]:
    stmt = (
        select(KioskSession.kiosk_id, func.count())
        .where(KioskSession.opened_on == day)
        .group_by(KioskSession.kiosk_id)
    )
    return {kiosk_id: int(n) for kiosk_id, n in (await session.execute(stmt)).all()}


def open_session(
    session: AsyncSession,
    *,
    kiosk_id: str,
    person_id: int,
    method: Method,
    token_hash: str,
    now: datetime,
    today: date,
) -> KioskSession:
    row = KioskSession(
        token_hash=token_hash,
        kiosk_id=kiosk_id,
        person_id=person_id,
        method=method.value,
        opened_at=now,
        opened_on=today,
        last_touch_at=now,
    )
    session.add(row)
    return row


async def session_by_token(session: AsyncSession, token_hash: str) -> KioskSession | None:
    stmt = select(KioskSession).where(KioskSession.token_hash == token_hash)
    return (await session.execute(stmt)).scalar_one_or_none()


async def end_sessions(
    session: AsyncSession, kiosk_id: str | None, reason: EndReason, now: datetime
) -> int:
    """Ends every open session of the kiosk (None: of every kiosk), and cancels the print jobs
    they left queued."""
    where: list[ColumnElement[bool]] = [KioskSession.ended_at.is_(None)]
    if kiosk_id is not None:
        where.append(KioskSession.kiosk_id == kiosk_id)
    open_ids = select(KioskSession.id).where(*where)
    await session.execute(
        update(KioskPrintJob)
        .where(
            KioskPrintJob.session_id.in_(open_ids),
            KioskPrintJob.state == PrintState.QUEUED.value,
        )
        .values(state=PrintState.CANCELLED.value, updated_at=now)
    )
    ended = await session.execute(
        update(KioskSession).where(*where).values(ended_at=now, end_reason=reason.value)
    )
    return int(getattr(ended, "rowcount", 0) or 0)


async def end_session(
    session: AsyncSession, row: KioskSession, reason: EndReason, now: datetime
) -> None:
    await session.execute(
        update(KioskPrintJob)
        .where(KioskPrintJob.session_id == row.id, KioskPrintJob.state == PrintState.QUEUED.value)
        .values(state=PrintState.CANCELLED.value, updated_at=now)
    )
    if row.ended_at is None:
        row.ended_at = now
        row.end_reason = reason.value


def add_print_job(session: AsyncSession, job: KioskPrintJob) -> None:
    session.add(job)


async def print_job(
    session: AsyncSession, job_id: int, *, lock: bool = False
) -> KioskPrintJob | None:
    stmt = select(KioskPrintJob).where(KioskPrintJob.id == job_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def queued_jobs(session: AsyncSession, kiosk_id: str) -> list[int]:
    stmt = (
        select(KioskPrintJob.id)
        .where(
            KioskPrintJob.kiosk_id == kiosk_id,
            KioskPrintJob.state == PrintState.QUEUED.value,
        )
        .order_by(KioskPrintJob.id)
    )
    return list((await session.execute(stmt)).scalars())
