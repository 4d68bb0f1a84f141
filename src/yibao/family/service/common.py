"""What the family use cases share: facts for the eligibility rules, history, notices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import repository as audit_repository
from yibao.audit.domain import ActorType
from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.tables import Person
from yibao.family import repository
from yibao.family.domain import (
    AUTHORISATION_NOT_FOUND,
    AuthoriserFacts,
    BeneficiaryFacts,
    Eligibility,
    NotYourAuthorisation,
    RegionPolicy,
    Status,
    UnknownApplication,
    UnknownAuthorisation,
    check_eligibility,
)
from yibao.family.domain import Channel as ApplicationChannel
from yibao.family.tables import MutualAidApplication, MutualAidAuthorisation, MutualAidEvent
from yibao.identity import repository as identity_repository
from yibao.kernel.actors import StaffActor
from yibao.kernel.errors import InvalidInput
from yibao.kernel.idnumber import InvalidIdNumber, mask_name, parse_id_number
from yibao.kernel.pii import PersonalDataCipher
from yibao.ledger import repository as ledger_repository
from yibao.notifications import repository as outbox
from yibao.notifications.domain import Channel

PERSON = "本人"
RELATIVE = "共济亲属"
SYSTEM = "系统"


@dataclass(frozen=True, slots=True)
class Relative:
    """A relative as the authoriser (or the clerk) typed them in."""

    name: str
    id_number: str
    relation: str


@dataclass(frozen=True, slots=True)
class Staff:
    staff_id: int
    name: str
    roles: frozenset[str] = frozenset()
    office: str = ""

    @property
    def label(self) -> str:
        return f"经办人员 {self.name}（工号 {self.staff_id}）"

    @property
    def role(self) -> str:
        return StaffActor(self.staff_id, self.name, self.roles, self.office).role


async def audit(
    session: AsyncSession,
    staff: Staff,
    action: str,
    person_id: int | None,
    now: datetime,
    *,
    reason: str = "family_review",
    **detail: object,
) -> None:
    """Rule 8: every staff read or change of a person's mutual aid goes on the audit chain."""
    await audit_repository.record(
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


async def authoriser_facts(session: AsyncSession, person_id: int) -> AuthoriserFacts:
    person = await enrolment_repository.person(session, person_id)
    if person is None:
        raise InvalidInput("找不到参保人")
    employee = next(
        (
            e
            for e in await enrolment_repository.enrolments_of(session, person_id)
            if e.insutype == "310"
        ),
        None,
    )
    account = await ledger_repository.account_for_person(session, person_id)
    return AuthoriserFacts(
        person_id=person_id,
        birth_date=person.birth_date,
        admdvs=employee.admdvs if employee else None,
        insutype=employee.insutype if employee else None,
        enrolment_status=employee.status if employee else None,
        has_account=account is not None,
        account_frozen=account is not None and account.status != "active",
    )


async def policy_for(session: AsyncSession, facts: AuthoriserFacts) -> RegionPolicy | None:
    if facts.admdvs is None:
        return None
    region = await enrolment_repository.region(session, facts.admdvs)
    rules = enrolment_repository.rules_of(region)
    return RegionPolicy(
        admdvs=region.admdvs,
        name=region.name,
        near_relatives_allowed=rules.near_relatives_allowed,
        scope=rules.mutual_aid_scope.value,
    )


async def find_relative(
    session: AsyncSession, cipher: PersonalDataCipher, relative: Relative
) -> Person | None:
    try:
        id_number = parse_id_number(relative.id_number).value
    except InvalidIdNumber as exc:
        label = mask_name(relative.name.strip()) or "亲属"
        raise InvalidIdNumber(f"{label}的身份证号码有误：{exc.message}") from exc
    return await enrolment_repository.person_by_id_number(session, cipher, id_number)


async def beneficiary_facts(
    session: AsyncSession,
    authoriser_id: int,
    relative: Relative,
    person: Person | None,
    *,
    ignore_authorisation: int | None = None,
) -> BeneficiaryFacts:
    name = relative.name.strip()
    label = mask_name(name) if name else "亲属"
    if person is None:
        return BeneficiaryFacts(label, relative.relation, None, False, None)
    enrolments = tuple(
        (e.insutype, e.status, e.admdvs)
        for e in await enrolment_repository.enrolments_of(session, person.id)
    )
    linked = False
    if ignore_authorisation is None:
        linked = await repository.live_link_exists(session, authoriser_id, person.id)
    return BeneficiaryFacts(
        label=label,
        relation=relative.relation,
        person_id=person.id,
        name_matches=person.name == name,
        birth_date=person.birth_date,
        enrolments=enrolments,
        already_linked=linked,
    )


async def eligibility_of(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    authoriser_id: int,
    relatives: list[Relative],
    today: date,
) -> tuple[Eligibility, list[Person | None]]:
    if not relatives:
        raise InvalidInput("请至少添加一位亲属")
    if len(relatives) > 10:
        raise InvalidInput("一次最多添加10位亲属")
    facts = await authoriser_facts(session, authoriser_id)
    policy = await policy_for(session, facts)
    persons = [await find_relative(session, cipher, r) for r in relatives]
    seen: set[int] = set()
    for p in persons:
        if p is not None and p.id in seen:
            raise InvalidInput("同一位亲属不能重复添加")
        if p is not None:
            seen.add(p.id)
    beneficiaries = [
        await beneficiary_facts(session, authoriser_id, r, p)
        for r, p in zip(relatives, persons, strict=True)
    ]
    return check_eligibility(facts, beneficiaries, policy, today), persons


async def has_online_account(session: AsyncSession, person_id: int) -> bool:
    return await identity_repository.account_of_person(session, person_id) is not None


def record(
    session: AsyncSession,
    row: MutualAidAuthorisation,
    action: str,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> None:
    row.updated_at = now
    session.add(
        MutualAidEvent(
            authorisation_id=row.id,
            action=action,
            status=row.status,
            actor=actor,
            reason=reason,
            at=now,
        )
    )


def set_status(
    row: MutualAidAuthorisation, status: Status, now: datetime, reason: str | None = None
) -> None:
    row.status = status.value
    if reason is not None:
        row.status_reason = reason
    if status in {Status.REVOKED, Status.ENDED, Status.REJECTED}:
        row.closed_at = now


async def tell(
    session: AsyncSession,
    person_id: int,
    key: str,
    subject: str,
    body: str,
    now: datetime,
    *,
    sms: bool = True,
) -> None:
    """An in-app notice, and an SMS when it matters enough to reach the phone."""
    channels = (Channel.INAPP, Channel.SMS) if sms else (Channel.INAPP,)
    for channel in channels:
        await outbox.enqueue(
            session,
            channel=channel,
            dedup_key=f"family:{key}:{channel.value}",
            subject=subject,
            body=body,
            now=now,
            person_id=person_id,
        )


def owned_by(row: MutualAidAuthorisation, person_id: int | None) -> None:
    if row.authoriser_person_id != person_id:
        # Answered as a missing id would be: another person's ids must not be told apart.
        raise UnknownAuthorisation(AUTHORISATION_NOT_FOUND)


async def names(session: AsyncSession, row: MutualAidAuthorisation) -> tuple[str, str]:
    authoriser = await enrolment_repository.person(session, row.authoriser_person_id)
    beneficiary = await enrolment_repository.person(session, row.beneficiary_person_id)
    return (
        authoriser.name if authoriser else "授权人",
        beneficiary.name if beneficiary else "亲属",
    )


async def application_for(
    session: AsyncSession, application_id: int, person_id: int | None, clerk: Staff | None
) -> MutualAidApplication:
    """The application a person (their own) or a clerk (counter applications only) may act on."""
    application = await repository.application(session, application_id)
    # Another person's application is answered as a missing one: its ids must not be told apart.
    if application is None or (clerk is None and application.authoriser_person_id != person_id):
        raise UnknownApplication("找不到该共济申请")
    if clerk is not None and application.channel != ApplicationChannel.COUNTER:
        raise NotYourAuthorisation("网上申请由申请人本人提交材料")
    return application
