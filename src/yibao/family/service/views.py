"""Read models: the family page, who supports a beneficiary, 共济消费明细, the review queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.tables import Person
from yibao.family import repository
from yibao.family.domain import (
    RELATION_NAMES,
    STATUS_NAMES,
    Relation,
    Status,
    quota_remaining,
)
from yibao.family.repository import AidPayment
from yibao.family.service.common import Staff, audit
from yibao.family.tables import (
    AccountFreeze,
    MutualAidDocument,
    MutualAidEvent,
    RelativeContribution,
)
from yibao.kernel.clock import Clock, china_today
from yibao.kernel.errors import NotFound
from yibao.kernel.idnumber import InvalidIdNumber, parse_id_number
from yibao.kernel.pii import PersonalDataCipher
from yibao.kernel.uploads import DocumentStore
from yibao.ledger import repository as ledger_repository


@dataclass(frozen=True, slots=True)
class Line:
    authorisation_id: int
    application_id: int
    other_person_id: int
    other_name: str
    relation: str
    relation_name: str
    status: str
    status_name: str
    status_reason: str | None
    quota_fen: int | None
    used_fen: int
    remaining_fen: int | None
    consent_required: bool
    activated_at: datetime | None
    events: list[MutualAidEvent]


async def _line(session: AsyncSession, row_id: int, *, as_authoriser: bool, year: int) -> Line:
    row = await repository.authorisation(session, row_id)
    other_id = row.beneficiary_person_id if as_authoriser else row.authoriser_person_id
    other = await enrolment_repository.person(session, other_id)
    account = await ledger_repository.account_for_person(session, row.authoriser_person_id)
    used = (
        await repository.used_in_year(session, account.id, row.beneficiary_person_id, year)
        if account is not None
        else 0
    )
    return Line(
        authorisation_id=row.id,
        application_id=row.application_id,
        other_person_id=other_id,
        other_name=other.name if other else "",
        relation=row.relation,
        relation_name=RELATION_NAMES[Relation(row.relation)],
        status=row.status,
        status_name=STATUS_NAMES[Status(row.status)],
        status_reason=row.status_reason,
        quota_fen=row.quota_fen,
        used_fen=used,
        remaining_fen=quota_remaining(row.quota_fen, used),
        consent_required=row.consent_required,
        activated_at=row.activated_at,
        events=await repository.events_of(session, row.id),
    )


async def family_page(session: AsyncSession, clock: Clock, authoriser_id: int) -> list[Line]:
    """The authoriser's beneficiaries, each with status, quota and this year's use."""
    year = china_today(clock).year
    return [
        await _line(session, r.id, as_authoriser=True, year=year)
        for r in await repository.given_by(session, authoriser_id)
    ]


async def supporters(session: AsyncSession, clock: Clock, beneficiary_id: int) -> list[Line]:
    """Who supports this beneficiary, and how much of each quota is left."""
    year = china_today(clock).year
    return [
        await _line(session, r.id, as_authoriser=False, year=year)
        for r in await repository.received_by(session, beneficiary_id)
    ]


async def aid_paid_by(
    session: AsyncSession,
    payer_id: int,
    *,
    beneficiary_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[AidPayment]:
    """共济消费明细 for the authoriser: time, institution, amount, for whom; no items or diagnosis."""
    return await repository.aid_payments(
        session, payer_id=payer_id, beneficiary_id=beneficiary_id, since=since, until=until
    )


async def aid_received(
    session: AsyncSession,
    beneficiary_id: int,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[AidPayment]:
    return await repository.aid_payments(
        session, beneficiary_id=beneficiary_id, since=since, until=until
    )


@dataclass(frozen=True, slots=True)
class CaseFile:
    """What a reviewer sees: the form beside its documents (ID numbers masked)."""

    line: Line
    channel: str
    clerk_name: str | None
    submitted_at: datetime | None
    authoriser_id: int
    authoriser_name: str
    authoriser_id_masked: str
    beneficiary_id: int
    beneficiary_name: str
    beneficiary_id_masked: str
    beneficiary_birth: str
    consented_at: datetime | None
    documents: list[MutualAidDocument]


async def case_file(session: AsyncSession, clock: Clock, authorisation_id: int) -> CaseFile:
    row = await repository.authorisation(session, authorisation_id)
    application = await repository.application(session, row.application_id)
    assert application is not None
    authoriser = await enrolment_repository.person(session, row.authoriser_person_id)
    beneficiary = await enrolment_repository.person(session, row.beneficiary_person_id)
    assert authoriser is not None and beneficiary is not None
    return CaseFile(
        line=await _line(session, row.id, as_authoriser=True, year=china_today(clock).year),
        channel=application.channel,
        clerk_name=application.clerk_name,
        submitted_at=application.submitted_at,
        authoriser_id=authoriser.id,
        authoriser_name=authoriser.name,
        authoriser_id_masked=authoriser.id_number_masked,
        beneficiary_id=beneficiary.id,
        beneficiary_name=beneficiary.name,
        beneficiary_id_masked=beneficiary.id_number_masked,
        beneficiary_birth=beneficiary.birth_date.isoformat(),
        consented_at=row.consented_at,
        documents=await repository.documents_of(session, row.id),
    )


async def review_queue(session: AsyncSession, clock: Clock) -> list[CaseFile]:
    return [await case_file(session, clock, r.id) for r in await repository.review_queue(session)]


async def application_lines(
    session: AsyncSession, clock: Clock, application_id: int, person_id: int | None
) -> list[CaseFile]:
    """One application's relatives with their documents (the applicant's summary page)."""
    application = await repository.application(session, application_id)
    if application is None or (
        person_id is not None and application.authoriser_person_id != person_id
    ):
        raise NotFound("找不到该共济申请")
    return [
        await case_file(session, clock, r.id)
        for r in await repository.authorisations_of_application(session, application_id)
    ]


async def document_content(
    session: AsyncSession,
    store: DocumentStore,
    document_id: int,
    *,
    person_id: int | None = None,
    staff: bool = False,
) -> tuple[MutualAidDocument, bytes]:
    """Shown only to the applicant (the authoriser) and to staff."""
    document = await repository.document(session, document_id)
    row = (
        None
        if document is None
        else await repository.authorisation(session, document.authorisation_id)
    )
    # Another person's document is answered as a missing one: its ids must not be told apart.
    if document is None or row is None or (not staff and row.authoriser_person_id != person_id):
        raise NotFound("找不到该材料")
    return document, await store.read(document.storage_name)


async def contribution_receipt(
    session: AsyncSession, person_id: int, receipt_no: str
) -> RelativeContribution:
    found = await repository.contribution_by_receipt(session, receipt_no)
    if found is None or person_id not in {found.payer_person_id, found.beneficiary_person_id}:
        raise NotFound("找不到该缴费凭证")
    return found


async def find_insured(session: AsyncSession, cipher: PersonalDataCipher, key: str) -> Person:
    """At the counter: the person in front of the clerk, by ID number or psn_no."""
    key = key.strip()
    found = None
    if len(key) == 18:
        try:
            found = await enrolment_repository.person_by_id_number(
                session, cipher, parse_id_number(key).value
            )
        except InvalidIdNumber:
            found = None
    if found is None:
        found = await enrolment_repository.person_by_psn_no(session, key)
    if found is None:
        raise NotFound("找不到该参保人，请核对身份证号码或人员编号")
    return found


@dataclass(frozen=True, slots=True)
class FreezeLine:
    freeze: AccountFreeze
    name: str
    id_masked: str


async def open_freezes(session: AsyncSession) -> list[FreezeLine]:
    out = []
    for f in await repository.freezes(session):
        person = await enrolment_repository.person(session, f.person_id)
        out.append(
            FreezeLine(f, person.name if person else "", person.id_number_masked if person else "")
        )
    return out


async def open_case(
    session: AsyncSession, clock: Clock, staff: Staff, authorisation_id: int
) -> CaseFile:
    """A staff member reads one case: both persons' data, so the read is audited for each."""
    case = await case_file(session, clock, authorisation_id)
    now = clock.now()
    for person_id in (case.authoriser_id, case.beneficiary_id):
        await audit(
            session, staff, "family.case_view", person_id, now, authorisation_id=authorisation_id
        )
    await session.commit()
    return case


async def open_application(
    session: AsyncSession, clock: Clock, staff: Staff, application_id: int
) -> list[CaseFile]:
    """A clerk reads a whole application: each relative's case, audited for both persons."""
    cases = await application_lines(session, clock, application_id, None)
    now = clock.now()
    for case in cases:
        for person_id in (case.authoriser_id, case.beneficiary_id):
            await audit(
                session, staff, "family.case_view", person_id, now,
                reason="counter_visit", application_id=application_id,
                authorisation_id=case.line.authorisation_id,
            )  # fmt: skip
    await session.commit()
    return cases


async def open_document(
    session: AsyncSession, clock: Clock, store: DocumentStore, staff: Staff, document_id: int
) -> tuple[MutualAidDocument, bytes]:
    document, data = await document_content(session, store, document_id, staff=True)
    row = await repository.authorisation(session, document.authorisation_id)
    await audit(
        session,
        staff,
        "family.document_view",
        row.beneficiary_person_id,
        clock.now(),
        authorisation_id=row.id,
        document_id=document.id,
        kind=document.kind,
    )
    await session.commit()
    return document, data
