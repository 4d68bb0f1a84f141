"""The ledger's reads for pages and statements: an account's entries by page and by period,
sums, and what was paid for and by relatives. Never commits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from yibao.enrolment.tables import Enrolment
from yibao.ledger.domain import EntryKind
from yibao.ledger.tables import LedgerEntry, PersonalAccount


async def entry_by_id(session: AsyncSession, entry_id: int) -> LedgerEntry | None:
    return await session.get(LedgerEntry, entry_id)


async def sum_of_entries(session: AsyncSession, account_id: int) -> int:
    stmt = select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0)).where(
        LedgerEntry.account_id == account_id
    )
    return int((await session.execute(stmt)).scalar_one())


async def entries_page(
    session: AsyncSession,
    account_id: int,
    *,
    limit: int,
    before: tuple[datetime, int] | None = None,
    kinds: list[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[LedgerEntry]:
    """Newest first; `before` is the (created_at, id) of the last row of the previous page."""
    stmt = select(LedgerEntry).where(LedgerEntry.account_id == account_id)
    if kinds:
        stmt = stmt.where(LedgerEntry.kind.in_(kinds))
    if since is not None:
        stmt = stmt.where(LedgerEntry.created_at >= since)
    if until is not None:
        stmt = stmt.where(LedgerEntry.created_at < until)
    if before is not None:
        at, entry_id = before
        stmt = stmt.where(
            (LedgerEntry.created_at < at)
            | ((LedgerEntry.created_at == at) & (LedgerEntry.id < entry_id))
        )
    stmt = stmt.order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def balance_before(session: AsyncSession, account_id: int, at: datetime) -> int:
    """The account's balance just before `at` (0 before its first entry)."""
    stmt = (
        select(LedgerEntry.balance_after_fen)
        .where(LedgerEntry.account_id == account_id, LedgerEntry.created_at < at)
        .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
        .limit(1)
    )
    found = (await session.execute(stmt)).scalar_one_or_none()
    return int(found) if found is not None else 0


async def entries_between(
    session: AsyncSession, account_id: int, start: datetime, end: datetime
) -> list[LedgerEntry]:
    """Oldest first, as a statement lists them."""
    stmt = (
        select(LedgerEntry)
        .where(
            LedgerEntry.account_id == account_id,
            LedgerEntry.created_at >= start,
            LedgerEntry.created_at < end,
        )
        .order_by(LedgerEntry.created_at, LedgerEntry.id)
    )
    return list((await session.execute(stmt)).scalars())


async def paid_for(
    session: AsyncSession,
    account_id: int,
    beneficiary_id: int,
    kinds: Sequence[str],
    start: datetime,
    end: datetime,
) -> int:
    """Fen the account paid for `beneficiary_id` by entries of `kinds` made in [start, end),
    less what reversals of those entries gave back since (0 at least)."""
    paid = select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0)).where(
        LedgerEntry.account_id == account_id,
        LedgerEntry.beneficiary_person_id == beneficiary_id,
        LedgerEntry.kind.in_(kinds),
        LedgerEntry.created_at >= start,
        LedgerEntry.created_at < end,
    )
    original = aliased(LedgerEntry)
    reversed_ = (
        select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0))
        .join(original, original.id == LedgerEntry.reverses_entry_id)
        .where(
            LedgerEntry.account_id == account_id,
            LedgerEntry.kind == EntryKind.REVERSAL.value,
            original.beneficiary_person_id == beneficiary_id,
            original.kind.in_(kinds),
            original.created_at >= start,
            original.created_at < end,
        )
    )
    total = int((await session.execute(paid)).scalar_one()) + int(
        (await session.execute(reversed_)).scalar_one()
    )
    return max(-total, 0)


async def paid_for_others(
    session: AsyncSession,
    kinds: Sequence[str],
    *,
    payer_person_id: int | None = None,
    beneficiary_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 500,
) -> list[tuple[LedgerEntry, int]]:
    """Entries of `kinds` that an account paid (or got back) for someone other than its holder,
    newest first, each with the paying holder's person id."""
    stmt = (
        select(LedgerEntry, PersonalAccount.person_id)
        .join(PersonalAccount, PersonalAccount.id == LedgerEntry.account_id)
        .where(
            LedgerEntry.kind.in_(kinds),
            LedgerEntry.beneficiary_person_id.is_not(None),
            LedgerEntry.beneficiary_person_id != PersonalAccount.person_id,
        )
    )
    if payer_person_id is not None:
        stmt = stmt.where(PersonalAccount.person_id == payer_person_id)
    if beneficiary_id is not None:
        stmt = stmt.where(LedgerEntry.beneficiary_person_id == beneficiary_id)
    if since is not None:
        stmt = stmt.where(LedgerEntry.created_at >= since)
    if until is not None:
        stmt = stmt.where(LedgerEntry.created_at < until)
    stmt = stmt.order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc()).limit(limit)
    return [(entry, person_id) for entry, person_id in (await session.execute(stmt)).all()]


@dataclass(frozen=True, slots=True)
class RegionAccount:
    account_id: int
    person_id: int
    admdvs: str


async def employee_accounts_in_regions(
    session: AsyncSession, regions: Iterable[str], after: int, limit: int
) -> list[RegionAccount]:
    """The next accounts by id after `after` whose holder's employee insurance (310) is in one
    of `regions`: a keyset page for work over every account of some regions (the year end)."""
    wanted = sorted(regions)
    if not wanted:
        return []
    stmt = (
        select(PersonalAccount.id, PersonalAccount.person_id, Enrolment.admdvs)
        .join(
            Enrolment,
            (Enrolment.person_id == PersonalAccount.person_id) & (Enrolment.insutype == "310"),
        )
        .where(PersonalAccount.id > after, Enrolment.admdvs.in_(wanted))
        .order_by(PersonalAccount.id)
        .limit(limit)
    )
    return [RegionAccount(r.id, r.person_id, r.admdvs) for r in (await session.execute(stmt)).all()]
