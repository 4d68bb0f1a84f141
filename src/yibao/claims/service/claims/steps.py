"""报销进度: who moved a claim, to which status, when; each step also tells the person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.claims.domain import EVENT_NAMES, ClaimEvent, ClaimStatus, StaffActor, next_status
from yibao.claims.service.effects import notify
from yibao.claims.tables import Claim, ClaimStep
from yibao.kernel.money import format_yuan


@dataclass(frozen=True, slots=True)
class Actor:
    """Who moved a claim, as the step records it."""

    actor_type: str
    actor_id: int
    name: str
    office: str | None = None


def by_person(person_id: int) -> Actor:
    return Actor("person", person_id, "本人")


def by_staff(staff: StaffActor) -> Actor:
    return Actor("staff", staff.staff_id, staff.name, staff.office)


async def move(
    session: AsyncSession,
    claim: Claim,
    event: ClaimEvent,
    actor: Actor,
    now: datetime,
    note: str | None = None,
) -> ClaimStep:
    claim.status = next_status(ClaimStatus(claim.status), event).value
    claim.updated_at = now
    return await record_step(session, claim, event, actor, now, note)


async def record_step(
    session: AsyncSession,
    claim: Claim,
    event: ClaimEvent,
    actor: Actor,
    now: datetime,
    note: str | None = None,
) -> ClaimStep:
    """The step on 报销进度, and a notice to the person about it (outbox, after commit)."""
    step = ClaimStep(
        claim_id=claim.id,
        event=event.value,
        status=claim.status,
        actor_type=actor.actor_type,
        actor_id=actor.actor_id,
        actor_name=actor.name,
        office=actor.office,
        note=note,
        at=now,
    )
    session.add(step)
    await session.flush()
    await notify(
        session,
        claim.person_id,
        f"claim:{claim.id}:step:{step.id}",
        "报销进度",
        f"您在{claim.fixmedins_name}的报销申请（{format_yuan(claim.medfee_sumamt_fen)} 元）"
        f"：{EVENT_NAMES[event.value]}" + (f"。{note}" if note else ""),
        now,
    )
    return step
