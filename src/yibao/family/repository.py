"""Queries and row locks of 家庭共济. Never commits.

Lock order (so that no two transactions wait on each other in a cycle): authorisation rows in
ascending id first, then personal accounts in ascending id. Settlement's hook, revocation, quota
changes and contribution payments all follow it; freezing touches only the account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.db.direct import Sql, direct
from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.tables import Enrolment, Person
from yibao.family.domain import (
    AUTHORISATION_NOT_FOUND,
    LIVE_STATUSES,
    PAYER_RANK,
    Relation,
    Status,
    UnknownAuthorisation,
    quota_remaining,
)
from yibao.family.tables import (
    AccountFreeze,
    MutualAidApplication,
    MutualAidAuthorisation,
    MutualAidDocument,
    MutualAidEvent,
    RelativeContribution,
)
from yibao.kernel.clock import CHINA_TZ
from yibao.ledger import repository as ledger_repository
from yibao.ledger.domain import EntryKind

QUOTA_KINDS = (EntryKind.MUTUAL_AID_DEBIT.value, EntryKind.RELATIVE_CONTRIBUTION_DEBIT.value)


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """A calendar year in Beijing time, as UTC instants [start, end)."""
    start = datetime.combine(date(year, 1, 1), time(), CHINA_TZ).astimezone(UTC)
    end = datetime.combine(date(year + 1, 1, 1), time(), CHINA_TZ).astimezone(UTC)
    return start, end


async def authorisation(
    session: AsyncSession, authorisation_id: int, *, lock: bool = False
) -> MutualAidAuthorisation:
    stmt = select(MutualAidAuthorisation).where(MutualAidAuthorisation.id == authorisation_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise UnknownAuthorisation(AUTHORISATION_NOT_FOUND)
    return found


async def application(session: AsyncSession, application_id: int) -> MutualAidApplication | None:
    return await session.get(MutualAidApplication, application_id)


async def authorisations_of_application(
    session: AsyncSession, application_id: int
) -> list[MutualAidAuthorisation]:
    stmt = (
        select(MutualAidAuthorisation)
        .where(MutualAidAuthorisation.application_id == application_id)
        .order_by(MutualAidAuthorisation.id)
    )
    return list((await session.execute(stmt)).scalars())


async def live_link_exists(session: AsyncSession, authoriser_id: int, beneficiary_id: int) -> bool:
    stmt = select(MutualAidAuthorisation.id).where(
        MutualAidAuthorisation.authoriser_person_id == authoriser_id,
        MutualAidAuthorisation.beneficiary_person_id == beneficiary_id,
        MutualAidAuthorisation.status.in_([s.value for s in LIVE_STATUSES]),
    )
    return (await session.execute(stmt.limit(1))).first() is not None


async def given_by(session: AsyncSession, authoriser_id: int) -> list[MutualAidAuthorisation]:
    stmt = (
        select(MutualAidAuthorisation)
        .where(MutualAidAuthorisation.authoriser_person_id == authoriser_id)
        .order_by(MutualAidAuthorisation.id.desc())
    )
    return list((await session.execute(stmt)).scalars())


async def received_by(session: AsyncSession, beneficiary_id: int) -> list[MutualAidAuthorisation]:
    stmt = (
        select(MutualAidAuthorisation)
        .where(MutualAidAuthorisation.beneficiary_person_id == beneficiary_id)
        .order_by(MutualAidAuthorisation.id.desc())
    )
    return list((await session.execute(stmt)).scalars())


async def live_with_enrolment_ended(session: AsyncSession) -> list[int]:
    """Ids of live authorisations where either side no longer has a normal basic enrolment.

    The authoriser needs a normal 310 enrolment; the beneficiary a normal 310 or 390 one.
    """
    authoriser_ok = (
        select(Enrolment.id)
        .where(
            Enrolment.person_id == MutualAidAuthorisation.authoriser_person_id,
            Enrolment.insutype == "310",
            Enrolment.status == "1",
        )
        .exists()
    )
    beneficiary_ok = (
        select(Enrolment.id)
        .where(
            Enrolment.person_id == MutualAidAuthorisation.beneficiary_person_id,
            Enrolment.insutype.in_(["310", "390"]),
            Enrolment.status == "1",
        )
        .exists()
    )
    stmt = (
        select(MutualAidAuthorisation.id)
        .where(
            MutualAidAuthorisation.status.in_([s.value for s in LIVE_STATUSES]),
            ~authoriser_ok | ~beneficiary_ok,
        )
        .order_by(MutualAidAuthorisation.id)
    )
    return [int(i) for i in (await session.execute(stmt)).scalars()]


async def review_queue(session: AsyncSession, limit: int = 100) -> list[MutualAidAuthorisation]:
    stmt = (
        select(MutualAidAuthorisation)
        .where(MutualAidAuthorisation.status == Status.UNDER_REVIEW.value)
        .order_by(MutualAidAuthorisation.updated_at, MutualAidAuthorisation.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def events_of(session: AsyncSession, authorisation_id: int) -> list[MutualAidEvent]:
    stmt = (
        select(MutualAidEvent)
        .where(MutualAidEvent.authorisation_id == authorisation_id)
        .order_by(MutualAidEvent.at, MutualAidEvent.id)
    )
    return list((await session.execute(stmt)).scalars())


async def documents_of(session: AsyncSession, authorisation_id: int) -> list[MutualAidDocument]:
    stmt = (
        select(MutualAidDocument)
        .where(MutualAidDocument.authorisation_id == authorisation_id)
        .order_by(MutualAidDocument.id)
    )
    return list((await session.execute(stmt)).scalars())


async def document(session: AsyncSession, document_id: int) -> MutualAidDocument | None:
    return await session.get(MutualAidDocument, document_id)


async def used_in_year(
    session: AsyncSession, payer_account_id: int, beneficiary_id: int, year: int
) -> int:
    """Fen the payer's account paid for the beneficiary in `year`, less what was reversed since.

    Read from the ledger itself, so a cancelled settlement gives its quota back.
    """
    start, end = year_bounds(year)
    return await ledger_repository.paid_for(
        session, payer_account_id, beneficiary_id, QUOTA_KINDS, start, end
    )


@dataclass(frozen=True, slots=True)
class Payer:
    """One authoriser able to pay for a beneficiary now (settlement's MutualAidPayer, by field)."""

    payer_person_id: int
    account_id: int
    quota_remaining_fen: int | None
    order: int
    authorisation_id: int


async def payers_for(session: AsyncSession, beneficiary_id: int, on: date) -> list[Payer]:
    """Active authorisations for `beneficiary_id`, their rows locked, in the stated order.

    The rows are locked (ascending id) so that, until the calling settlement commits, no other
    settlement can spend the same quota and no revocation or pause can slip in between the
    check and the payment. A frozen authoriser, or one whose enrolment is not normal, pays for
    no one.
    """
    # Most people have no authoriser: one statement on the driver finds (and locks) that out.
    if not await (await direct(session, transaction=True)).fetch(_ACTIVE_FOR, b=beneficiary_id):
        return []
    stmt = (
        select(MutualAidAuthorisation)
        .where(
            MutualAidAuthorisation.beneficiary_person_id == beneficiary_id,
            MutualAidAuthorisation.status == Status.ACTIVE.value,
        )
        .order_by(MutualAidAuthorisation.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    rows = list((await session.execute(stmt)).scalars())
    candidates: list[tuple[tuple[int, datetime, int], Payer]] = []
    for row in rows:
        account = await ledger_repository.account_for_person(session, row.authoriser_person_id)
        if account is None or account.status != "active":
            continue
        if not await _normal_employee(session, row.authoriser_person_id):
            continue
        remaining = None
        if row.quota_fen is not None:
            used = await used_in_year(session, account.id, beneficiary_id, on.year)
            remaining = quota_remaining(row.quota_fen, used)
            if remaining == 0:
                continue
        rank = PAYER_RANK.get(Relation(row.relation), 9)
        activated = row.activated_at or row.created_at
        candidates.append(
            (
                (rank, activated, row.id),
                Payer(row.authoriser_person_id, account.id, remaining, 0, row.id),
            )
        )
    candidates.sort(key=lambda c: c[0])
    return [
        Payer(p.payer_person_id, p.account_id, p.quota_remaining_fen, i, p.authorisation_id)
        for i, (_, p) in enumerate(candidates)
    ]


_ACTIVE_FOR = Sql(
    "SELECT id FROM mutual_aid_authorisations WHERE beneficiary_person_id = :b"
    " AND status = 'active' ORDER BY id FOR UPDATE"  # Status.ACTIVE
)


async def _normal_employee(session: AsyncSession, person_id: int) -> bool:
    stmt = select(Enrolment.id).where(
        Enrolment.person_id == person_id, Enrolment.insutype == "310", Enrolment.status == "1"
    )
    return (await session.execute(stmt.limit(1))).first() is not None


async def freezes(session: AsyncSession, *, open_only: bool = True) -> list[AccountFreeze]:
    stmt = select(AccountFreeze).order_by(AccountFreeze.id.desc()).limit(200)
    if open_only:
        stmt = stmt.where(AccountFreeze.status != "unfrozen")
    return list((await session.execute(stmt)).scalars())


async def contribution_for(
    session: AsyncSession, beneficiary_id: int, year: int
) -> RelativeContribution | None:
    stmt = select(RelativeContribution).where(
        RelativeContribution.beneficiary_person_id == beneficiary_id,
        RelativeContribution.year == year,
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def contribution_by_receipt(
    session: AsyncSession, receipt_no: str
) -> RelativeContribution | None:
    stmt = select(RelativeContribution).where(RelativeContribution.receipt_no == receipt_no)
    return (await session.execute(stmt)).scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class AidPayment:
    """One line of 共济消费明细: never the items or the diagnosis, only who, where, when, how much."""

    entry_id: int
    at: datetime
    kind: str
    institution: str
    institution_code: str | None
    amount_fen: int  # positive: paid; negative: given back by a reversal
    payer_person_id: int
    payer_name: str
    beneficiary_person_id: int
    beneficiary_name: str
    source_id: str | None


async def aid_payments(
    session: AsyncSession,
    *,
    payer_id: int | None = None,
    beneficiary_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 500,
) -> list[AidPayment]:
    """Payments made from an authoriser's account for relatives (and their reversals)."""
    found = await ledger_repository.paid_for_others(
        session,
        [*QUOTA_KINDS, EntryKind.REVERSAL.value],
        payer_person_id=payer_id,
        beneficiary_id=beneficiary_id,
        since=since,
        until=until,
        limit=limit,
    )
    wanted = {p for _, p in found} | {e.beneficiary_person_id for e, _ in found}
    names = {
        row.id: row.name
        for row in await session.execute(
            select(Person.id, Person.name).where(Person.id.in_(wanted))
        )
    }
    return [
        AidPayment(
            entry_id=entry.id,
            at=entry.created_at,
            kind=entry.kind,
            institution=entry.counterparty,
            institution_code=entry.counterparty_code,
            amount_fen=-entry.amount_fen,
            payer_person_id=payer,
            payer_name=names[payer],
            beneficiary_person_id=entry.beneficiary_person_id,
            beneficiary_name=names[entry.beneficiary_person_id],
            source_id=entry.source_id,
        )
        for entry, payer in found
        if entry.beneficiary_person_id is not None
    ]


async def person(session: AsyncSession, person_id: int) -> Person | None:
    return await enrolment_repository.person(session, person_id)
