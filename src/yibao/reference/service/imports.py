"""`yibao catalogue import`: one kind's records from a file, all of them or none."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.kernel.clock import Clock, china_today
from yibao.kernel.pii import PersonalDataCipher
from yibao.reference import repository
from yibao.reference.domain import Kind, Problem, Record, check_rows, next_version
from yibao.reference.domain.kinds import INSTITUTION_MAPPINGS
from yibao.reference.tables import InstitutionListMapping

CERTNO_PURPOSE = "practitioner_certno"
CHUNK = 500


@dataclass
class ImportReport:
    kind: Kind
    version: int | None = None  # None: nothing changed, no version spent
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)


def _dumps(fields: dict[str, str]) -> str:
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


async def import_records(
    session: AsyncSession,
    clock: Clock,
    cipher: PersonalDataCipher,
    kind: Kind,
    header: list[str],
    rows: list[tuple[int, dict[str, str]]],
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Check every line; when one is wrong write nothing and name each problem, else add or
    replace each record (by the kind's key) under one new version, in one transaction.

    Records absent from the file are left as they are: a record is withdrawn by importing it
    with `vali_flag` 0, as the national lists do, so clients holding it learn of it."""
    checked = check_rows(kind, header, rows)
    report = ImportReport(kind, problems=checked.problems)
    if checked.problems:
        return report
    now = clock.now()
    version = next_version(await repository.last_version(session), china_today(clock))
    if kind is INSTITUTION_MAPPINGS:
        await _import_mappings(session, checked.records, version, now, report, progress)
    else:
        await _import_records(
            session, cipher, kind, checked.records, version, now, report, progress
        )
    if report.added or report.changed:
        report.version = version
    await session.commit()
    return report


def _chunks(items: list[dict[str, object]]) -> list[list[dict[str, object]]]:
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


async def _import_records(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    kind: Kind,
    records: list[Record],
    version: int,
    now: datetime,
    report: ImportReport,
    progress: Callable[[int], None] | None,
) -> None:
    """New records in multi-row INSERTs and changed ones in executemany UPDATEs (a national
    catalogue has 10^5 records: one ORM object each would take minutes)."""
    existing = await repository.record_digests(session, kind.infno)
    added: list[dict[str, object]] = []
    changed: list[dict[str, object]] = []
    for record in records:
        fields = _dumps(record.fields)
        lookup = (
            cipher.lookup_hash(record.certno, purpose=CERTNO_PURPOSE) if record.certno else None
        )
        values: dict[str, object] = {
            "code": record.code,
            "name": record.name,
            "group_code": record.group,
            "parent_code": record.parent,
            "lookup_hash": lookup,
            "vali_flag": record.vali_flag,
            "begndate": record.begndate,
            "enddate": record.enddate,
            "fields": fields,
            "ver": version,
            "updated_at": now,
        }
        known = existing.get(record.key)
        if known is None:
            added.append(
                {**values, "kind": kind.infno, "record_key": record.key, "created_at": now}
            )
        elif known[1:] == (fields, lookup):
            report.unchanged += 1
            if progress:
                progress(1)
        else:
            changed.append({**values, "row_id": known[0]})
    for chunk in _chunks(added):
        await repository.insert_records(session, chunk)
        report.added += len(chunk)
        if progress:
            progress(len(chunk))
    for chunk in _chunks(changed):
        await repository.update_records(session, chunk)
        report.changed += len(chunk)
        if progress:
            progress(len(chunk))


async def _import_mappings(
    session: AsyncSession,
    records: list[Record],
    version: int,
    now: datetime,
    report: ImportReport,
    progress: Callable[[int], None] | None,
) -> None:
    existing = await repository.mappings_of(session, {r.fields["fixmedins_code"] for r in records})
    for record in records:
        f = record.fields
        assert record.begndate is not None  # required by the kind
        fields = _dumps(f)
        key = (f["fixmedins_code"], f["medins_list_codg"], record.begndate)
        row = existing.get(key)
        if row is None:
            session.add(
                InstitutionListMapping(
                    fixmedins_code=key[0],
                    medins_list_codg=key[1],
                    medins_list_name=f["medins_list_name"],
                    med_list_codg=f["med_list_codg"],
                    list_type=f.get("list_type") or None,
                    begndate=record.begndate,
                    enddate=record.enddate,
                    vali_flag=record.vali_flag,
                    fields=fields,
                    ver=version,
                    created_at=now,
                    updated_at=now,
                )
            )
            report.added += 1
        elif row.fields == fields:
            report.unchanged += 1
        else:
            row.medins_list_name, row.med_list_codg = f["medins_list_name"], f["med_list_codg"]
            row.list_type, row.enddate = f.get("list_type") or None, record.enddate
            row.vali_flag, row.fields, row.ver = record.vali_flag, fields, version
            row.updated_at = now
            report.changed += 1
        if progress:
            progress(1)
