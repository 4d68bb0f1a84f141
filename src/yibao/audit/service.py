"""Use cases of the audit trail: verify the chain, archive what retention lets go, export,
and the person's 查询记录. Recording itself happens inside other use cases (`repository.record`)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import repository
from yibao.audit.domain import (
    AuditTrailBroken,
    Break,
    ChainCheck,
    LookupLine,
    NothingToArchive,
    lookup_line,
)
from yibao.audit.tables import AuditArchive, AuditRecord
from yibao.kernel.clock import Clock


@dataclass(frozen=True, slots=True)
class Verification:
    checked: int
    head_seq: int
    anchor_seq: int
    first_break: Break | None

    @property
    def intact(self) -> bool:
        return self.first_break is None


async def verify_chain(session: AsyncSession) -> Verification:
    anchor = await repository.latest_archive(session)
    check = (
        ChainCheck(anchor.through_seq, anchor.through_hash) if anchor is not None else ChainCheck()
    )
    anchor_seq = check.last_seq
    async for row in repository.records_after(session, anchor_seq):
        check.feed(row.id, repository.content_of(row), row.hash)
        if check.first_break is not None:
            break
    head_seq, head_hash = await repository.head(session)
    check.finish(head_seq, head_hash)
    return Verification(
        checked=check.checked,
        head_seq=head_seq,
        anchor_seq=anchor_seq,
        first_break=check.first_break,
    )


def record_as_dict(row: AuditRecord) -> dict[str, Any]:
    return {
        "id": row.id,
        "seq": row.seq,
        "occurred_at": row.occurred_at.isoformat(),
        "actor_type": row.actor_type,
        "actor_id": row.actor_id,
        "actor_name": row.actor_name,
        "role": row.role,
        "office": row.office,
        "action": row.action,
        "subject_person_id": row.subject_person_id,
        "reason": row.reason,
        "detail": json.loads(row.detail_json),
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }


async def export_records(
    session: AsyncSession, since: datetime | None, until: datetime | None
) -> list[dict[str, Any]]:
    return [record_as_dict(r) for r in await repository.records_between(session, since, until)]


@dataclass(frozen=True, slots=True)
class ArchiveReport:
    from_seq: int
    through_seq: int
    record_count: int
    path: Path


def _write_archive(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


async def archive_expired(
    session: AsyncSession, clock: Clock, *, retention_days: int, directory: Path
) -> ArchiveReport:
    """Move records older than the retention period into an export file, chain intact.

    The file carries every field and hash; the archive row keeps the last hash as the anchor
    that the remaining chain starts from, and the file's own digest to prove the copy.
    """
    if retention_days < 186:
        raise NothingToArchive("审计记录至少保留 186 天")
    verification = await verify_chain(session)
    if not verification.intact:
        assert verification.first_break is not None
        raise AuditTrailBroken(
            f"审计链在第 {verification.first_break.seq} 条断开，先查明原因再归档"
        )
    now = clock.now()
    cutoff = now - timedelta(days=retention_days)
    run = await repository.oldest_before(session, cutoff, verification.anchor_seq)
    if not run:
        raise NothingToArchive(f"没有早于 {cutoff:%Y-%m-%d} 的审计记录需要归档")
    first, last = run[0].seq, run[-1].seq
    path = directory / f"audit-{first:012d}-{last:012d}-{secrets.token_hex(4)}.jsonl"
    lines = [json.dumps(record_as_dict(r), ensure_ascii=False) + "\n" for r in run]
    data = "".join(lines).encode()
    # Written before the records leave the database: a failed commit leaves a spare copy, never
    # a gap.
    await asyncio.to_thread(_write_archive, path, data)
    await repository.add_archive(
        session,
        AuditArchive(
            from_seq=first,
            through_seq=last,
            through_hash=run[-1].hash,
            record_count=len(run),
            file_name=path.name,
            file_sha256=hashlib.sha256(data).hexdigest(),
            archived_at=now,
        ),
    )
    await session.commit()
    return ArchiveReport(from_seq=first, through_seq=last, record_count=len(run), path=path)


async def lookups_for_person(
    session: AsyncSession,
    person_id: int,
    *,
    limit: int = 50,
    before: tuple[datetime, int] | None = None,
) -> list[LookupLine]:
    rows = await repository.lookups_of(session, person_id, limit=limit, before=before)
    return [
        lookup_line(
            r.id, r.occurred_at, r.actor_type, r.actor_name, r.role, r.office, r.action, r.reason
        )
        for r in rows
    ]
