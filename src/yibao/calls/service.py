"""Use cases of hotline calls: start, record each step, the agent's queue, figures per hour.

Each step of a call is one transaction: the IVR's new state, the transcript lines, and the
audit records of any account reading it spoke are written together or not at all, so a
database that fails mid-call leaves the call as it was before the step.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import repository as audit_repository
from yibao.audit.domain import ActorType
from yibao.calls import repository
from yibao.calls.domain import (
    CallAlreadyTaken,
    CallEnded,
    CallFacts,
    CallMovedOn,
    CallNotFound,
    HourFigures,
    IdentifiedBy,
    Said,
    StepRecord,
    figures_by_hour,
    parse_transcript,
    transcript_json,
)
from yibao.calls.tables import HotlineCall
from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.domain import UnknownPerson
from yibao.kernel.actors import StaffActor
from yibao.kernel.clock import CHINA_TZ, Clock, china_today, to_china
from yibao.kernel.errors import PermissionDenied
from yibao.kernel.idnumber import parse_id_number
from yibao.kernel.pii import PersonalDataCipher

HOTLINE_OFFICE = "医保服务热线"
REASON = "hotline_call"


async def start_call(
    session: AsyncSession, clock: Clock, *, channel: str, state_json: str, language: str
) -> str:
    call_ref = secrets.token_hex(16)
    repository.add(
        session,
        HotlineCall(
            call_ref=call_ref,
            channel=channel,
            started_at=clock.now(),
            language=language,
            step="start",
            state_json=state_json,
            menu_path="",
            transcript_json="[]",
        ),
    )
    await session.commit()
    return call_ref


async def call_by_ref(session: AsyncSession, call_ref: str) -> HotlineCall:
    call = await repository.by_ref(session, call_ref)
    if call is None:
        raise CallNotFound("没有这个通话")
    return call


def _append(call: HotlineCall, lines: list[Said]) -> None:
    old = json.loads(call.transcript_json or "[]")
    call.transcript_json = json.dumps(old + transcript_json(lines), ensure_ascii=False)


async def record_step(session: AsyncSession, clock: Clock, call_ref: str, step: StepRecord) -> None:
    call = await repository.by_ref(session, call_ref, lock=True)
    if call is None:
        raise CallNotFound("没有这个通话")
    if call.ended_at is not None:
        return  # a late event (a second hang-up): the record is closed
    if call.state_json != step.previous_state_json:
        raise CallMovedOn("通话状态已变化")
    now = clock.now()
    lines = [Said(now, "caller", step.heard)] if step.heard else []
    lines += [Said(now, "ivr", text) for text in step.said]
    _append(call, lines)
    call.state_json = step.state_json
    call.step = step.step
    call.language = step.language
    call.menu_path = ">".join(step.path)
    if step.person_id is not None and call.person_id is None:
        call.person_id = step.person_id
        call.identified_by = IdentifiedBy.KEYS.value
    if step.reads and call.person_id is not None:
        person = await enrolment_repository.person(session, call.person_id)
        for service in step.reads:
            await audit_repository.record(
                session,
                actor_type=ActorType.PERSON.value,
                actor_id=call.person_id,
                actor_name=person.name if person else "",
                role="hotline_caller",
                office=HOTLINE_OFFICE,
                action="hotline.read",
                subject_person_id=call.person_id,
                reason=REASON,
                detail={"call": call.call_ref, "service": service},
                now=now,
            )
    if step.queued and call.queued_at is None:
        call.queued_at = now
    if step.ended:
        call.ended_at = now
        call.end_reason = step.end_reason
    await session.commit()


# --- the agent ---------------------------------------------------------------------------------


async def waiting_calls(session: AsyncSession) -> list[HotlineCall]:
    return await repository.waiting(session)


async def my_calls(session: AsyncSession, staff: StaffActor) -> list[HotlineCall]:
    return await repository.taken_by(session, staff.staff_id)


async def _agents_call(session: AsyncSession, staff: StaffActor, call_id: int) -> HotlineCall:
    call = await repository.by_id(session, call_id, lock=True)
    if call is None:
        raise CallNotFound("没有这个通话")
    if call.agent_staff_id != staff.staff_id:
        raise PermissionDenied("这通电话不是您接听的")
    return call


async def take_call(
    session: AsyncSession, clock: Clock, staff: StaffActor, call_id: int
) -> HotlineCall:
    """The agent takes a waiting call; seeing who calls is a read of the person's data."""
    call = await repository.by_id(session, call_id, lock=True)
    if call is None:
        raise CallNotFound("没有这个通话")
    if call.ended_at is not None:
        raise CallEnded("来电人已挂机")
    if call.agent_staff_id is not None and call.agent_staff_id != staff.staff_id:
        raise CallAlreadyTaken("这通电话已由其他坐席接听")
    now = clock.now()
    if call.taken_at is None:
        call.taken_at = now
        call.agent_staff_id = staff.staff_id
        call.step = "agent"
        _append(call, [Said(now, "agent", f"坐席接听（{staff.office}）")])
        if call.person_id is not None:
            await audit_repository.record_staff_action(
                session, staff, "person.view", call.person_id, REASON, {"call": call.call_ref}, now
            )
    await session.commit()
    return call


@dataclass(frozen=True, slots=True)
class AgentView:
    """What the agent sees of a call: who (if identified), how, and what the caller heard."""

    call: HotlineCall
    transcript: list[Said]
    person_name: str | None
    id_masked: str | None


async def call_for_agent(session: AsyncSession, staff: StaffActor, call_id: int) -> AgentView:
    """Only the agent who took the call sees it (taking it was the audited read)."""
    call = await repository.by_id(session, call_id)
    if call is None:
        raise CallNotFound("没有这个通话")
    if call.agent_staff_id != staff.staff_id:
        raise PermissionDenied("这通电话不是您接听的")
    person = await enrolment_repository.person(session, call.person_id) if call.person_id else None
    return AgentView(
        call=call,
        transcript=parse_transcript(call.transcript_json),
        person_name=person.name if person else None,
        id_masked=person.id_number_masked if person else None,
    )


async def identify_by_agent(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    clock: Clock,
    staff: StaffActor,
    call_id: int,
    id_number: str,
) -> HotlineCall:
    """A caller not identified by keys answers the agent's questions; the agent records who."""
    call = await _agents_call(session, staff, call_id)
    if call.ended_at is not None:
        raise CallEnded("通话已结束")
    person = await enrolment_repository.person_by_id_number(
        session, cipher, parse_id_number(id_number).value
    )
    if person is None:
        raise UnknownPerson("没有找到该参保人")
    now = clock.now()
    call.person_id = person.id
    call.identified_by = IdentifiedBy.AGENT.value
    _append(call, [Said(now, "agent", "坐席通过问询核实了来电人身份")])
    await audit_repository.record_staff_action(
        session,
        staff,
        "hotline.identify",
        person.id,
        REASON,
        {"call": call.call_ref, "by": "agent_questions"},
        now,
    )
    await session.commit()
    return call


async def end_by_agent(
    session: AsyncSession, clock: Clock, staff: StaffActor, call_id: int
) -> None:
    call = await _agents_call(session, staff, call_id)
    if call.ended_at is None:
        now = clock.now()
        call.ended_at = now
        call.end_reason = "agent_done"
        _append(call, [Said(now, "agent", "坐席结束通话")])
    await session.commit()


# --- figures -----------------------------------------------------------------------------------


async def figures_for_day(
    session: AsyncSession, clock: Clock, day: date | None = None
) -> list[HourFigures]:
    """Calls per hour of a China day (today by default), with abandonment."""
    day = day or china_today(clock)
    since = datetime(day.year, day.month, day.day, tzinfo=CHINA_TZ)
    calls = await repository.started_between(session, since, since + timedelta(days=1))
    return figures_by_hour(
        CallFacts(
            hour=to_china(c.started_at).hour,
            identified=c.person_id is not None,
            queued=c.queued_at is not None,
            taken=c.taken_at is not None,
            ended=c.ended_at is not None,
        )
        for c in calls
    )
