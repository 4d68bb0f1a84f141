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
from yibao.reference.tables import InstitutionListMapping, ReferenceRecord

CERTNO_PURPOSE = "practitioner_certno"


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
        existing = await repository.records_of_kind(session, kind.infno)
        for record in checked.records:
            _put_record(kind, cipher, existing, record, version, now, session, report)
            if progress:
                progress(1)
    if report.added or report.changed:
        report.version = version
    await session.commit()
    return report


def _put_record(
    kind: Kind,
    cipher: PersonalDataCipher,
    existing: dict[str, ReferenceRecord],
    record: Record,
    version: int,
    now: datetime,
    session: AsyncSession,
    report: ImportReport,
) -> None:
    fields = _dumps(record.fields)
    lookup = cipher.lookup_hash(record.certno, purpose=CERTNO_PURPOSE) if record.certno else None
    row = existing.get(record.key)
    if row is None:
        session.add(
            ReferenceRecord(
                kind=kind.infno,
                record_key=record.key,
                code=record.code,
                name=record.name,
                group_code=record.group,
                parent_code=record.parent,
                lookup_hash=lookup,
                vali_flag=record.vali_flag,
                begndate=record.begndate,
                enddate=record.enddate,
                fields=fields,
                ver=version,
                created_at=now,
                updated_at=now,
            )
        )
        report.added += 1
        return
    if row.fields == fields and row.lookup_hash == lookup:
        report.unchanged += 1
        return
    row.code, row.name = record.code, record.name
    row.group_code, row.parent_code, row.lookup_hash = record.group, record.parent, lookup
    row.vali_flag, row.begndate, row.enddate = record.vali_flag, record.begndate, record.enddate
    row.fields, row.ver, row.updated_at = fields, version, now
    report.changed += 1


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
