"""Opening 家庭共济: eligibility, the application (online or at the counter), the relative's
consent, and review; the documents it needs are in documents.py."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.db.ephemeral import EphemeralStore
from yibao.enrolment import repository as enrolment_repository
from yibao.family import repository
from yibao.family.domain import (
    AUTHORISATION_NOT_FOUND,
    DOCUMENT_KIND_NAMES,
    AlreadyApplied,
    Channel,
    DocumentKind,
    DocumentsMissing,
    Eligibility,
    ReviewerIsApplicant,
    Status,
    UnknownAuthorisation,
    check_eligibility,
    move,
    needs_consent,
    require_reason,
)
from yibao.family.service.common import (
    PERSON,
    RELATIVE,
    Relative,
    Staff,
    application_for,
    audit,
    authoriser_facts,
    beneficiary_facts,
    eligibility_of,
    has_online_account,
    names,
    policy_for,
    record,
    set_status,
    tell,
)
from yibao.family.service.eligibility import look_up_online
from yibao.family.tables import MutualAidApplication, MutualAidAuthorisation
from yibao.kernel.clock import Clock, china_today
from yibao.kernel.errors import InvalidInput
from yibao.kernel.idnumber import mask_name
from yibao.kernel.pii import PersonalDataCipher


async def check(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    clock: Clock,
    authoriser_id: int,
    relatives: list[Relative],
) -> Eligibility:
    """Every condition that fails, with what to do, including those about the relative's own
    record; writes nothing. Not for the person online: they get `check_online`."""
    eligibility, _ = await eligibility_of(
        session, cipher, authoriser_id, relatives, china_today(clock)
    )
    await session.rollback()
    return eligibility


@dataclass(frozen=True, slots=True)
class Started:
    application: MutualAidApplication
    authorisations: list[MutualAidAuthorisation]


async def start_application(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    clock: Clock,
    authoriser_id: int,
    relatives: list[Relative],
    *,
    clerk: Staff | None = None,
    store: EphemeralStore | None = None,
) -> Started:
    """The authoriser (or a clerk at the counter) names the relatives; documents come next.

    Online the application is a look-up of the relatives too: the same count (`store`; the web
    always passes it, only loaders acting for the person leave it out), the same 查询记录 lines
    (committed even when refused) and the same answer as `check_online`."""
    if clerk is not None:
        eligibility, persons = await eligibility_of(
            session, cipher, authoriser_id, relatives, china_today(clock)
        )
        eligibility.raise_if_refused()
    else:
        eligibility, persons = await look_up_online(
            session, cipher, clock, store, authoriser_id, relatives
        )
        if not eligibility.eligible:
            await session.commit()  # the look-ups stay on the relatives' 查询记录
            eligibility.as_told_to_applicant().raise_if_refused()
    now = clock.now()
    application = MutualAidApplication(
        authoriser_person_id=authoriser_id,
        channel=(Channel.COUNTER if clerk else Channel.ONLINE).value,
        clerk_staff_id=clerk.staff_id if clerk else None,
        clerk_name=clerk.name if clerk else None,
        status="draft",
        created_at=now,
    )
    session.add(application)
    await session.flush()
    rows = []
    for relative, person in zip(relatives, persons, strict=True):
        assert person is not None  # eligibility refused unknown persons
        row = MutualAidAuthorisation(
            application_id=application.id,
            authoriser_person_id=authoriser_id,
            beneficiary_person_id=person.id,
            relation=relative.relation,
            status=Status.APPLIED.value,
            consent_required=False,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        rows.append(row)
    try:
        await session.flush()
    except IntegrityError as exc:
        # Two submissions for the same relative at once: the live-pair index keeps one.
        await session.rollback()
        raise AlreadyApplied("您已为该亲属提交过申请，请在“家庭共济”页面查看") from exc
    for row in rows:
        record(session, row, "applied", clerk.label if clerk else PERSON, now)
    if clerk is not None:
        await audit(
            session,
            clerk,
            "family.counter_entry",
            authoriser_id,
            now,
            reason="counter_visit",
            application_id=application.id,
            beneficiaries=[r.beneficiary_person_id for r in rows],
        )
    await session.commit()
    return Started(application, rows)


async def submit_application(
    session: AsyncSession,
    clock: Clock,
    application_id: int,
    *,
    person_id: int | None = None,
    clerk: Staff | None = None,
) -> list[MutualAidAuthorisation]:
    """Submit: an adult relative with a yibao account is asked to consent, others go to review."""
    application = await application_for(session, application_id, person_id, clerk)
    rows = await repository.authorisations_of_application(session, application.id)
    pending = [r for r in rows if r.status == Status.APPLIED]
    if not pending:
        raise InvalidInput("该申请已提交")
    for row in pending:
        kinds = {d.kind for d in await repository.documents_of(session, row.id)}
        missing = [DOCUMENT_KIND_NAMES[k] for k in DocumentKind if k.value not in kinds]
        if missing:
            beneficiary = await enrolment_repository.person(session, row.beneficiary_person_id)
            who = mask_name(beneficiary.name) if beneficiary else "亲属"
            raise DocumentsMissing(f"请为{who}上传：{'、'.join(missing)}")
    now = clock.now()
    today = china_today(clock)
    authoriser = await enrolment_repository.person(session, application.authoriser_person_id)
    authoriser_name = authoriser.name if authoriser else "您的亲属"
    for row in pending:
        beneficiary = await enrolment_repository.person(session, row.beneficiary_person_id)
        assert beneficiary is not None
        row.consent_required = needs_consent(
            beneficiary.birth_date, await has_online_account(session, beneficiary.id), today
        )
        target = Status.PENDING_CONSENT if row.consent_required else Status.UNDER_REVIEW
        set_status(row, move(row.status, target), now)
        record(session, row, "submitted", clerk.label if clerk else PERSON, now)
        if row.consent_required:
            await tell(
                session,
                beneficiary.id,
                f"consent:{row.id}",
                "家庭共济授权待您确认",
                f"{mask_name(authoriser_name)}申请用其职工医保个人账户为您支付医药费用。"
                "同意后，您在定点机构的个人自付费用可由其账户支付，"
                "对方可以看到为您支付的时间、机构和金额（看不到药品和诊断）。请登录医保App确认。",
                now,
            )
    application.status = "submitted"
    application.submitted_at = now
    await tell(
        session,
        application.authoriser_person_id,
        f"submitted:{application.id}",
        "家庭共济申请已提交",
        f"您的家庭共济申请（{len(pending)}位亲属）已提交，审核结果将通过短信和App消息通知您。",
        now,
        sms=False,
    )
    await session.commit()
    return pending


async def consent(
    session: AsyncSession, clock: Clock, beneficiary_id: int, authorisation_id: int, agree: bool
) -> MutualAidAuthorisation:
    """PIPL's separate consent: the relative agrees, on their own phone, to be paid for and seen."""
    row = await repository.authorisation(session, authorisation_id, lock=True)
    if row.beneficiary_person_id != beneficiary_id:
        raise UnknownAuthorisation(AUTHORISATION_NOT_FOUND)
    now = clock.now()
    _, beneficiary_name = await names(session, row)
    if agree:
        set_status(row, move(row.status, Status.UNDER_REVIEW), now)
        row.consented_at = now
        record(session, row, "consented", RELATIVE, now)
        body = f"{mask_name(beneficiary_name)}已同意家庭共济授权，申请进入审核。"
    else:
        set_status(row, move(row.status, Status.REJECTED), now, "亲属未同意共济授权")
        record(session, row, "declined", RELATIVE, now, "亲属未同意共济授权")
        body = f"{mask_name(beneficiary_name)}未同意家庭共济授权，该申请已结束。"
    await tell(session, row.authoriser_person_id, f"consent-answer:{row.id}", "家庭共济", body, now)
    await session.commit()
    return row


async def review(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    clock: Clock,
    authorisation_id: int,
    reviewer: Staff,
    *,
    approve: bool,
    reason: str | None = None,
) -> MutualAidAuthorisation:
    """审核: approve (active from this moment) or reject with a reason, never one's own entry."""
    row = await repository.authorisation(session, authorisation_id, lock=True)
    application = await repository.application(session, row.application_id)
    assert application is not None
    if application.clerk_staff_id is not None and application.clerk_staff_id == reviewer.staff_id:
        raise ReviewerIsApplicant("受理录入人员不能审核自己录入的申请，请由其他审核人员办理")
    now = clock.now()
    authoriser_name, beneficiary_name = await names(session, row)
    who = mask_name(beneficiary_name)
    if approve:
        move(row.status, Status.ACTIVE)
        # Conditions may have changed since the application: check again before paying anyone.
        facts = await authoriser_facts(session, row.authoriser_person_id)
        beneficiary = await enrolment_repository.person(session, row.beneficiary_person_id)
        b = await beneficiary_facts(
            session,
            row.authoriser_person_id,
            Relative(beneficiary_name, "", row.relation),
            beneficiary,
            ignore_authorisation=row.id,
        )
        check_eligibility(
            facts, [b], await policy_for(session, facts), china_today(clock)
        ).raise_if_refused()
        set_status(row, Status.ACTIVE, now, None)
        row.activated_at = now
        row.reviewed_by = reviewer.name
        row.reviewed_at = now
        record(session, row, "approved", reviewer.label, now, reason)
        await audit(
            session,
            reviewer,
            "family.approve",
            row.authoriser_person_id,
            now,
            authorisation_id=row.id,
            beneficiary_person_id=row.beneficiary_person_id,
        )
        await tell(
            session,
            row.authoriser_person_id,
            f"approved:{row.id}",
            "家庭共济已开通",
            f"您为{who}申请的家庭共济已审核通过，即日起生效。可在“家庭共济”页面设置共济额度。",
            now,
        )
        await tell(
            session,
            row.beneficiary_person_id,
            f"approved-b:{row.id}",
            "家庭共济已开通",
            f"{mask_name(authoriser_name)}的职工医保个人账户已可为您支付医药费用。"
            "就医购药请出示您本人的医保电子凭证或社保卡。",
            now,
        )
    else:
        text = require_reason(reason, "不通过的原因")
        set_status(row, move(row.status, Status.REJECTED), now, text)
        row.reviewed_by = reviewer.name
        row.reviewed_at = now
        record(session, row, "rejected", reviewer.label, now, text)
        await audit(
            session,
            reviewer,
            "family.reject",
            row.authoriser_person_id,
            now,
            authorisation_id=row.id,
            beneficiary_person_id=row.beneficiary_person_id,
            why=text,
        )
        await tell(
            session,
            row.authoriser_person_id,
            f"rejected:{row.id}",
            "家庭共济申请未通过",
            f"您为{who}申请的家庭共济未通过审核：{text}。可补充材料后重新申请。",
            now,
        )
    await session.commit()
    return row
