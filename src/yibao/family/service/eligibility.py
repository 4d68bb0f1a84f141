"""资格查询 by the person online: a look-up of other people's records, so it is counted per
applicant and day, recorded on each relative's 查询记录, and answered only as far as the applicant
may be told (docs/family.md)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import repository as audit_repository
from yibao.audit.domain import ActorType
from yibao.db.ephemeral import EphemeralStore
from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.tables import Person
from yibao.family.domain import (
    ELIGIBILITY_CHECKS_PER_DAY,
    Eligibility,
    EligibilityChecksUsedUp,
)
from yibao.family.service.common import Relative, eligibility_of
from yibao.kernel.clock import CHINA_TZ, Clock, china_today
from yibao.kernel.pii import PersonalDataCipher


async def check_online(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    clock: Clock,
    store: EphemeralStore,
    applicant_id: int,
    relatives: list[Relative],
) -> Eligibility:
    """资格查询 on the phone (the web needs a step-up first): counted against the applicant's
    daily allowance, recorded on each relative's 查询记录, and answered as the applicant may be
    told (`Eligibility.as_told_to_applicant`). Commits only the audit records."""
    eligibility, _ = await look_up_online(session, cipher, clock, store, applicant_id, relatives)
    await session.commit()
    return eligibility.as_told_to_applicant()


async def _count_look_ups(store: EphemeralStore, clock: Clock, applicant_id: int, n: int) -> None:
    """One count per relative looked up, per applicant and Beijing calendar day, in the shared
    short-lived store (rule 11), so every server process adds to the same count."""
    today = china_today(clock)
    key = f"family-eligibility:{applicant_id}:{today.isoformat()}"
    for _ in range(n):
        used = await store.incr(key, timedelta(days=1, hours=1))
        if used > ELIGIBILITY_CHECKS_PER_DAY:
            midnight = datetime.combine(today + timedelta(days=1), time(), CHINA_TZ)
            raise EligibilityChecksUsedUp(
                f"今天的家庭共济资格查询已达{ELIGIBILITY_CHECKS_PER_DAY}次，请明天再试",
                retry_after=max(1, int((midnight - clock.now()).total_seconds())),
            )


async def look_up_online(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    clock: Clock,
    store: EphemeralStore | None,
    applicant_id: int,
    relatives: list[Relative],
) -> tuple[Eligibility, list[Person | None]]:
    """The check a person runs about others: whoever an ID number finds sees the look-up on
    their 查询记录 (the applicant's masked name, why), whatever the answer."""
    if store is not None:
        await _count_look_ups(store, clock, applicant_id, len(relatives))
    eligibility, persons = await eligibility_of(
        session, cipher, applicant_id, relatives, china_today(clock)
    )
    applicant = await enrolment_repository.person(session, applicant_id)
    now = clock.now()
    for relative, person in zip(relatives, persons, strict=True):
        if person is None or person.id == applicant_id:
            continue
        await audit_repository.record(
            session,
            actor_type=ActorType.PERSON.value,
            actor_id=applicant_id,
            actor_name=applicant.name if applicant else "",
            role="family_applicant",
            office="",
            action="family.eligibility_check",
            subject_person_id=person.id,
            reason="family_application",
            detail={"relation": relative.relation},
            now=now,
        )
    return eligibility, persons
