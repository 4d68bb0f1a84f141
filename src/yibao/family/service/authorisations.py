"""Living with an authorisation: quota, pause, resume, revoke (at once, by the authoriser),
automatic end when an enrolment ends, and staff correcting a relation."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment import repository as enrolment_repository
from yibao.family import repository
from yibao.family.domain import (
    RELATION_NAMES,
    Refusal,
    Relation,
    Status,
    StatusChangeRefused,
    check_eligibility,
    check_quota,
    move,
    require_reason,
)
from yibao.family.service.common import (
    PERSON,
    SYSTEM,
    Relative,
    Staff,
    audit,
    authoriser_facts,
    beneficiary_facts,
    names,
    owned_by,
    policy_for,
    record,
    set_status,
    tell,
)
from yibao.family.tables import MutualAidAuthorisation
from yibao.kernel.clock import Clock, china_today
from yibao.kernel.errors import InvalidInput
from yibao.kernel.idnumber import mask_name
from yibao.kernel.money import format_yuan


async def change_quota(
    session: AsyncSession,
    clock: Clock,
    authoriser_id: int,
    authorisation_id: int,
    quota_fen: int | None,
) -> MutualAidAuthorisation:
    """共济额度: a yearly cap (None: no cap). Takes effect for the next payment."""
    quota = check_quota(quota_fen)
    # The row lock makes the change wait for a settlement that is using the old quota.
    row = await repository.authorisation(session, authorisation_id, lock=True)
    owned_by(row, authoriser_id)
    if row.status in {Status.REVOKED, Status.ENDED, Status.REJECTED}:
        raise StatusChangeRefused("该授权已结束，不能修改额度")
    now = clock.now()
    row.quota_fen = quota
    text = "不限额" if quota is None else f"每年 {format_yuan(quota)} 元"
    record(session, row, "quota_changed", PERSON, now, f"共济额度改为{text}")
    await tell(
        session,
        row.beneficiary_person_id,
        f"quota:{row.id}:{now.timestamp()}",
        "家庭共济额度调整",
        f"为您共济的额度已调整为{text}。",
        now,
        sms=False,
    )
    await session.commit()
    return row


async def _by_authoriser(
    session: AsyncSession,
    clock: Clock,
    authoriser_id: int,
    authorisation_id: int,
    target: Status,
    action: str,
    subject: str,
    body: str,
) -> MutualAidAuthorisation:
    row = await repository.authorisation(session, authorisation_id, lock=True)
    owned_by(row, authoriser_id)
    now = clock.now()
    set_status(row, move(row.status, target), now, body if target != Status.ACTIVE else None)
    record(session, row, action, PERSON, now)
    authoriser_name, _ = await names(session, row)
    await tell(
        session,
        row.beneficiary_person_id,
        f"{action}:{row.id}:{now.timestamp()}",
        subject,
        f"{mask_name(authoriser_name)}{body}",
        now,
    )
    await session.commit()
    return row


async def pause(
    session: AsyncSession, clock: Clock, authoriser_id: int, authorisation_id: int
) -> MutualAidAuthorisation:
    return await _by_authoriser(
        session,
        clock,
        authoriser_id,
        authorisation_id,
        Status.PAUSED,
        "paused",
        "家庭共济已暂停",
        "暂停了为您的家庭共济支付，恢复前就医购药的自付部分需由您本人支付。",
    )


async def resume(
    session: AsyncSession, clock: Clock, authoriser_id: int, authorisation_id: int
) -> MutualAidAuthorisation:
    return await _by_authoriser(
        session,
        clock,
        authoriser_id,
        authorisation_id,
        Status.ACTIVE,
        "resumed",
        "家庭共济已恢复",
        "恢复了为您的家庭共济支付。",
    )


async def revoke(
    session: AsyncSession, clock: Clock, authoriser_id: int, authorisation_id: int
) -> MutualAidAuthorisation:
    """撤销, at once: a settlement already holding the row finishes first, the next pays in cash."""
    return await _by_authoriser(
        session,
        clock,
        authoriser_id,
        authorisation_id,
        Status.REVOKED,
        "revoked",
        "家庭共济已撤销",
        "撤销了为您的家庭共济授权，此后其个人账户不再为您支付。",
    )


async def end_when_enrolment_ended(session: AsyncSession, clock: Clock) -> int:
    """The sweep: live authorisations whose authoriser or beneficiary is no longer enrolled end."""
    ids = await repository.live_with_enrolment_ended(session)
    now = clock.now()
    ended = 0
    for authorisation_id in ids:
        row = await repository.authorisation(session, authorisation_id, lock=True)
        if row.status in {Status.REVOKED, Status.ENDED, Status.REJECTED}:
            continue
        reason = "参保状态变化（一方已停保或终止参保），家庭共济自动终止"
        set_status(row, Status.ENDED, now, reason)
        record(session, row, "ended", SYSTEM, now, reason)
        for person_id in (row.authoriser_person_id, row.beneficiary_person_id):
            await tell(
                session,
                person_id,
                f"ended:{row.id}:{person_id}",
                "家庭共济已终止",
                reason + "。恢复正常参保后可重新申请。",
                now,
            )
        ended += 1
    await session.commit()
    return ended


@dataclass(frozen=True, slots=True)
class Correction:
    authorisation: MutualAidAuthorisation
    refusals: list[Refusal]


async def correct_relation(
    session: AsyncSession,
    clock: Clock,
    staff: Staff,
    authorisation_id: int,
    relation: str,
    reason: str,
) -> Correction:
    """家庭成员变动: staff correct the relation; if the pair is no longer eligible it ends."""
    text = require_reason(reason, "更正原因")
    try:
        new_relation = Relation(relation)
    except ValueError as exc:
        raise InvalidInput("亲属关系无效") from exc
    row = await repository.authorisation(session, authorisation_id, lock=True)
    if row.status in {Status.REVOKED, Status.ENDED, Status.REJECTED}:
        raise StatusChangeRefused("该授权已结束，无需更正")
    now = clock.now()
    old = Relation(row.relation)
    facts = await authoriser_facts(session, row.authoriser_person_id)
    beneficiary = await enrolment_repository.person(session, row.beneficiary_person_id)
    assert beneficiary is not None
    b = await beneficiary_facts(
        session,
        row.authoriser_person_id,
        Relative(beneficiary.name, "", new_relation.value),
        beneficiary,
        ignore_authorisation=row.id,
    )
    eligibility = check_eligibility(
        facts, [b], await policy_for(session, facts), china_today(clock)
    )
    note = f"亲属关系由“{RELATION_NAMES[old]}”更正为“{RELATION_NAMES[new_relation]}”：{text}"
    if new_relation != Relation.OTHER:
        row.relation = new_relation.value
    record(session, row, "relation_corrected", staff.label, now, note)
    await audit(
        session,
        staff,
        "family.relation_correct",
        row.authoriser_person_id,
        now,
        authorisation_id=row.id,
        relation_from=old.value,
        relation_to=new_relation.value,
        why=text,
        still_eligible=eligibility.eligible,
    )
    if not eligibility.eligible:
        why = "；".join(r.message for r in eligibility.refusals)
        set_status(row, Status.ENDED, now, why)
        record(session, row, "ended", staff.label, now, why)
        for person_id in (row.authoriser_person_id, row.beneficiary_person_id):
            await tell(
                session,
                person_id,
                f"corrected:{row.id}:{person_id}:{now.timestamp()}",
                "家庭共济已终止",
                f"{note}。更正后不再符合共济条件（{why}），共济已终止。如有异议请联系医保经办机构。",
                now,
            )
    await session.commit()
    return Correction(row, eligibility.refusals)
