"""Queries and writes of 异地就医备案, on the caller's session. Never commits.

`covering_filing` is what cross-region settlement asks: is this person registered for
treatment in that region on that day?"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment.tables import Person
from yibao.filings.domain import (
    Channel,
    DocumentKind,
    Filing,
    FilingKind,
    FilingState,
    RegionFilingRules,
    UnknownFiling,
)
from yibao.filings.tables import FilingDocument, FilingRow, FilingRules


def to_filing(row: FilingRow) -> Filing:
    return Filing(
        id=row.id,
        person_id=row.person_id,
        kind=FilingKind(row.kind),
        insured_admdvs=row.insured_admdvs,
        treatment_admdvs=row.treatment_admdvs,
        treatment_name=row.treatment_name,
        begins=row.begins,
        ends=row.ends,
        state=FilingState(row.state),
        channel=Channel(row.channel),
        document_kind=DocumentKind(row.document_kind) if row.document_kind else None,
        document_note=row.document_note,
        referral_medins_code=row.referral_medins_code,
        replaces_id=row.replaces_id,
        serial=row.serial,
    )


def _regions_covering(treatment_admdvs: str) -> list[str]:
    """The codes whose 备案 covers `treatment_admdvs`: itself, its prefecture, its province."""
    codes = {treatment_admdvs, treatment_admdvs[:4] + "00", treatment_admdvs[:2] + "0000"}
    return sorted(codes)


async def covering_filing(
    session: AsyncSession, person_id: int, treatment_admdvs: str, on: date
) -> Filing | None:
    """The person's active 备案 to that treatment region (6-digit admdvs) covering that date, or
    None. A 备案 to the region's prefecture or province covers it too; of several, the one filed
    last is answered."""
    stmt = (
        select(FilingRow)
        .where(
            FilingRow.person_id == person_id,
            FilingRow.state == FilingState.ACTIVE.value,
            FilingRow.treatment_admdvs.in_(_regions_covering(treatment_admdvs)),
            FilingRow.begins <= on,
            or_(FilingRow.ends.is_(None), FilingRow.ends >= on),
        )
        .order_by(FilingRow.id.desc())
    )
    for row in (await session.execute(stmt)).scalars():
        filing = to_filing(row)
        if filing.covers(treatment_admdvs, on):
            return filing
    return None


async def lock_person(session: AsyncSession, person_id: int) -> bool:
    """Serialises one person's 备案 changes (a double tap, the phone and the counter at once):
    the conflict check and the insert that follows see every earlier one. False: no such person."""
    stmt = select(Person.id).where(Person.id == person_id).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def filings_of(session: AsyncSession, person_id: int) -> list[Filing]:
    """Every 备案 of the person, newest first."""
    stmt = select(FilingRow).where(FilingRow.person_id == person_id).order_by(FilingRow.id.desc())
    return [to_filing(row) for row in (await session.execute(stmt)).scalars()]


async def filing_row(session: AsyncSession, filing_id: int, *, lock: bool = False) -> FilingRow:
    stmt = select(FilingRow).where(FilingRow.id == filing_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise UnknownFiling("没有这份备案")
    return row


async def filing_by_serial(
    session: AsyncSession, serial: str, *, lock: bool = False
) -> FilingRow | None:
    stmt = select(FilingRow).where(FilingRow.serial == serial)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def add_filing(session: AsyncSession, row: FilingRow) -> Filing:
    session.add(row)
    await session.flush()
    return to_filing(row)


async def add_document(session: AsyncSession, document: FilingDocument) -> None:
    session.add(document)
    await session.flush()


async def documents_of(session: AsyncSession, filing_id: int) -> list[FilingDocument]:
    stmt = (
        select(FilingDocument)
        .where(FilingDocument.filing_id == filing_id)
        .order_by(FilingDocument.id)
    )
    return list((await session.execute(stmt)).scalars())


async def document(session: AsyncSession, document_id: int) -> FilingDocument | None:
    return await session.get(FilingDocument, document_id)


def _rules_from_row(row: FilingRules) -> RegionFilingRules:
    kinds = frozenset(FilingKind(k) for k in row.allowed_kinds.split(",") if k)
    return RegionFilingRules(
        allowed_kinds=kinds,
        change_after_months=row.change_after_months,
        temporary_months=row.temporary_months,
        emergency_backdate_days=row.emergency_backdate_days,
    )


async def rules_of(session: AsyncSession, admdvs: str) -> RegionFilingRules:
    """The insured region's 备案 rules: its settings, or the defaults."""
    row = await session.get(FilingRules, admdvs)
    return _rules_from_row(row) if row is not None else RegionFilingRules()


async def put_rules(
    session: AsyncSession, admdvs: str, rules: RegionFilingRules, by: str, now: datetime
) -> None:
    row = await session.get(FilingRules, admdvs, with_for_update=True)
    kinds = ",".join(sorted(k.value for k in rules.allowed_kinds))
    if row is None:
        row = FilingRules(admdvs=admdvs)
        session.add(row)
    row.allowed_kinds = kinds
    row.change_after_months = rules.change_after_months
    row.temporary_months = rules.temporary_months
    row.emergency_backdate_days = rules.emergency_backdate_days
    row.updated_at = now
    row.updated_by = by
    await session.flush()
