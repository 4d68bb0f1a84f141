"""Append to the audit chain inside the caller's transaction, and read it back. Never commits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit.domain import (
    GENESIS_HASH,
    READ_ACTIONS,
    ActorType,
    AuditContent,
    canonical_detail,
    check_record,
    record_hash,
)
from yibao.audit.tables import AuditArchive, AuditChainHead, AuditRecord
from yibao.db.engine import is_postgres
from yibao.kernel.actors import StaffActor


async def _lock_head(session: AsyncSession) -> AuditChainHead:
    """Lock the one-row chain head: appends queue here briefly instead of forking the chain."""
    stmt = (
        select(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    head = (await session.execute(stmt)).scalar_one_or_none()
    if head is None:
        insert = pg_insert if is_postgres(session) else sqlite_insert
        await session.execute(
            insert(AuditChainHead)
            .values(id=1, last_seq=0, last_hash=GENESIS_HASH)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        head = (await session.execute(stmt)).scalar_one()
    return head


async def record(
    session: AsyncSession,
    *,
    actor_type: str,
    actor_id: int | str,
    actor_name: str,
    role: str,
    office: str,
    action: str,
    subject_person_id: int | None,
    reason: str,
    detail: Mapping[str, Any],
    now: datetime,
) -> AuditRecord:
    check_record(actor_type, action, str(actor_id))
    head = await _lock_head(session)
    content = AuditContent(
        seq=head.last_seq + 1,
        occurred_at=now,
        actor_type=actor_type,
        actor_id=str(actor_id),
        actor_name=actor_name,
        role=role,
        office=office,
        action=action,
        subject_person_id=subject_person_id,
        reason=reason,
        detail_json=canonical_detail(detail),
        prev_hash=head.last_hash,
    )
    digest = record_hash(content)
    row = AuditRecord(
        seq=content.seq,
        occurred_at=content.occurred_at,
        actor_type=content.actor_type,
        actor_id=content.actor_id,
        actor_name=content.actor_name,
        role=content.role,
        office=content.office,
        action=content.action,
        subject_person_id=content.subject_person_id,
        reason=content.reason,
        detail_json=content.detail_json,
        prev_hash=content.prev_hash,
        hash=digest,
    )
    session.add(row)
    head.last_seq = content.seq
    head.last_hash = digest
    await session.flush()
    return row


async def record_staff_action(
    session: AsyncSession,
    staff: StaffActor,
    action: str,
    person_id: int | None,
    reason: str,
    detail: dict[str, Any],
    now: datetime,
) -> None:
    """What a staff member did, and to whose data, for the trail and the person's 查询记录."""
    await record(
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


def content_of(row: AuditRecord) -> AuditContent:
    return AuditContent(
        seq=row.seq,
        occurred_at=row.occurred_at,
        actor_type=row.actor_type,
        actor_id=row.actor_id,
        actor_name=row.actor_name,
        role=row.role,
        office=row.office,
        action=row.action,
        subject_person_id=row.subject_person_id,
        reason=row.reason,
        detail_json=row.detail_json,
        prev_hash=row.prev_hash,
    )


async def head(session: AsyncSession) -> tuple[int, str]:
    found = await session.get(AuditChainHead, 1, populate_existing=True)
    return (0, GENESIS_HASH) if found is None else (found.last_seq, found.last_hash)


async def latest_archive(session: AsyncSession) -> AuditArchive | None:
    stmt = select(AuditArchive).order_by(AuditArchive.through_seq.desc()).limit(1)
    return (await session.execute(stmt)).scalar_one_or_none()


async def records_after(
    session: AsyncSession, seq: int, *, batch: int = 1000
) -> AsyncIterator[AuditRecord]:
    """Every record after `seq` in chain order, fetched in batches (the trail can be long)."""
    while True:
        stmt = (
            select(AuditRecord)
            .where(AuditRecord.seq > seq)
            .order_by(AuditRecord.seq)
            .limit(batch)
            .execution_options(populate_existing=True)
        )
        rows = list((await session.execute(stmt)).scalars())
        for row in rows:
            yield row
        if len(rows) < batch:
            return
        seq = rows[-1].seq
        session.expunge_all()


async def records_between(
    session: AsyncSession, since: datetime | None, until: datetime | None
) -> list[AuditRecord]:
    stmt = select(AuditRecord).order_by(AuditRecord.seq)
    if since is not None:
        stmt = stmt.where(AuditRecord.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(AuditRecord.occurred_at < until)
    return list((await session.execute(stmt)).scalars())


async def oldest_before(
    session: AsyncSession, cutoff: datetime, after_seq: int
) -> list[AuditRecord]:
    """The unbroken run of records from the start of the chain that are older than `cutoff`."""
    stmt = select(AuditRecord).where(AuditRecord.seq > after_seq).order_by(AuditRecord.seq)
    run: list[AuditRecord] = []
    for row in (await session.execute(stmt)).scalars():
        if row.occurred_at >= cutoff:
            break
        run.append(row)
    return run


async def add_archive(session: AsyncSession, archive: AuditArchive) -> None:
    session.add(archive)
    await session.flush()
    # The trigger lets a record go only once an archive covering it exists (just above).
    await session.execute(delete(AuditRecord).where(AuditRecord.seq <= archive.through_seq))


# Who looks a person up: staff, partners, and other persons (a 家庭共济 资格查询).
# A kiosk (自助查询机) records its reads as a system actor named by its place.
LOOKUP_ACTORS = [
    ActorType.STAFF.value,
    ActorType.PARTNER.value,
    ActorType.PERSON.value,
    ActorType.SYSTEM.value,
]


async def lookups_of(
    session: AsyncSession,
    person_id: int,
    *,
    limit: int = 50,
    before: tuple[datetime, int] | None = None,
) -> list[AuditRecord]:
    """Reads of one person's data by staff or partners, newest first (查询记录)."""
    stmt = select(AuditRecord).where(
        AuditRecord.subject_person_id == person_id,
        AuditRecord.actor_type.in_(LOOKUP_ACTORS),
        AuditRecord.action.in_(sorted(READ_ACTIONS)),
    )
    if before is not None:
        at, record_id = before
        stmt = stmt.where(
            (AuditRecord.occurred_at < at)
            | ((AuditRecord.occurred_at == at) & (AuditRecord.id < record_id))
        )
    stmt = stmt.order_by(AuditRecord.occurred_at.desc(), AuditRecord.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def lookup_of(session: AsyncSession, person_id: int, record_id: int) -> AuditRecord | None:
    """One line of a person's 查询记录; another person's record id finds nothing."""
    stmt = select(AuditRecord).where(
        AuditRecord.id == record_id,
        AuditRecord.subject_person_id == person_id,
        AuditRecord.actor_type.in_([ActorType.STAFF.value, ActorType.PARTNER.value])
        | (
            (AuditRecord.actor_type == ActorType.PERSON.value)
            & AuditRecord.action.in_(sorted(READ_ACTIONS))
        ),
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def browse(
    session: AsyncSession,
    *,
    actor_id: str | None = None,
    subject_person_id: int | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_seq: int | None = None,
    limit: int = 100,
) -> list[AuditRecord]:
    """For administrators (/staff/audit): newest first, filtered."""
    stmt = select(AuditRecord)
    if actor_id is not None:
        stmt = stmt.where(AuditRecord.actor_id == actor_id)
    if subject_person_id is not None:
        stmt = stmt.where(AuditRecord.subject_person_id == subject_person_id)
    if action is not None:
        stmt = stmt.where(AuditRecord.action == action)
    if since is not None:
        stmt = stmt.where(AuditRecord.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(AuditRecord.occurred_at < until)
    if before_seq is not None:
        stmt = stmt.where(AuditRecord.seq < before_seq)
    stmt = stmt.order_by(AuditRecord.seq.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(AuditRecord))).scalar_one())
