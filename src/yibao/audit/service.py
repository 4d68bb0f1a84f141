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
    LOOKUP_KEYS,
    LOOKUP_REASONS,
    UNMASK_ROLES,
    UNMASKABLE_FIELDS,
    AuditAdminOnly,
    AuditTrailBroken,
    Break,
    ChainCheck,
    LookupLine,
    LookupReasonRequired,
    NothingToArchive,
    UnmaskNotAllowed,
    lookup_line,
)
from yibao.audit.tables import AuditArchive, AuditRecord
from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.domain import UnknownPerson
from yibao.enrolment.tables import Person
from yibao.kernel.actors import StaffActor
from yibao.kernel.clock import Clock
from yibao.kernel.errors import InvalidInput
from yibao.kernel.idnumber import parse_id_number, parse_phone
from yibao.kernel.pii import PersonalDataCipher


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


def _check_reason(reason: str) -> str:
    if reason not in LOOKUP_REASONS:
        raise LookupReasonRequired("请先选择查询事由")
    return reason


async def look_up_person(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    clock: Clock,
    staff: StaffActor,
    *,
    by: str,
    value: str,
    reason: str,
) -> list[Person]:
    """Staff find a person only after naming why; every hit is on that person's 查询记录.

    A search that finds nobody is recorded too (without the value), so fishing shows up.
    """
    reason = _check_reason(reason)
    if by not in LOOKUP_KEYS:
        raise InvalidInput("请选择按身份证号码、社保卡号或手机号码查询")
    value = value.strip()
    if by == "id_number":
        found = await enrolment_repository.person_by_id_number(
            session, cipher, parse_id_number(value).value
        )
        persons = [found] if found else []
    elif by == "card_no":
        found = await enrolment_repository.person_by_card_no(session, value)
        persons = [found] if found else []
    else:
        persons = await enrolment_repository.persons_by_phone(session, cipher, parse_phone(value))
    now = clock.now()
    for person in persons:
        await repository.record_staff_action(
            session, staff, "person.lookup", person.id, reason, {"by": by}, now
        )
    if not persons:
        await repository.record_staff_action(
            session, staff, "person.search", None, reason, {"by": by}, now
        )
    await session.commit()
    return persons


async def unmask(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    clock: Clock,
    staff: StaffActor,
    *,
    person_id: int,
    field: str,
    reason: str,
) -> str:
    """The full ID number or phone, for a staff member allowed to ask, recorded."""
    reason = _check_reason(reason)
    if not staff.roles & UNMASK_ROLES:
        raise UnmaskNotAllowed("您的岗位无权查看完整证件号码或手机号")
    if field not in UNMASKABLE_FIELDS:
        raise InvalidInput("只能查看完整的身份证号码或手机号码")
    person = await enrolment_repository.person(session, person_id)
    if person is None:
        raise UnknownPerson("没有找到该参保人")
    value = (
        enrolment_repository.decrypt_id_number(cipher, person)
        if field == "id_number"
        else enrolment_repository.decrypt_phone(cipher, person)
    )
    await repository.record_staff_action(
        session, staff, "person.unmask", person.id, reason, {"field": field}, clock.now()
    )
    await session.commit()
    return value or ""


async def record_staff_read(
    session: AsyncSession,
    clock: Clock,
    staff: StaffActor,
    *,
    person_id: int,
    action: str,
    reason: str,
    detail: dict[str, Any],
) -> None:
    """A staff page showing a person's data records the read and commits it before showing."""
    await repository.record_staff_action(
        session, staff, action, person_id, _check_reason(reason), detail, clock.now()
    )
    await session.commit()


async def browse_for_admin(
    session: AsyncSession,
    staff: StaffActor,
    *,
    actor_id: str | None = None,
    subject_person_id: int | None = None,
    action: str | None = None,
    before_seq: int | None = None,
    limit: int = 100,
) -> list[AuditRecord]:
    """/staff/audit: administrators read the trail itself (names in clear)."""
    if "admin" not in staff.roles:
        raise AuditAdminOnly("只有管理员可以查看审计日志")
    return await repository.browse(
        session,
        actor_id=actor_id,
        subject_person_id=subject_person_id,
        action=action,
        before_seq=before_seq,
        limit=limit,
    )
