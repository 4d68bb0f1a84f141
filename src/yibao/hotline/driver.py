"""One step of a call, for every adapter: the menu's state in, what to say out, and the record.

The step runs the IVR on the use cases, then writes the call's record (new state, transcript,
audit of what was read out) in one transaction. Only after that is anything spoken: a step whose
record could not be written (the database restarting mid-call) says a clear sentence instead and
leaves the call in the state before the step, so nothing is half-done and no reading goes out
unrecorded. A call whose record cannot even be started is told so and ended.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from yibao.calls import service as calls
from yibao.calls.domain import StepRecord
from yibao.hotline import ivr
from yibao.hotline.backend import UseCaseBackend
from yibao.hotline.phrases import phrase
from yibao.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Started:
    call_ref: str  # "" when the record could not be started (the reply then ends the call)
    state_json: str
    reply: ivr.Reply


def line_client(caller: str) -> str:
    """The "address" the per-address limit counts a call's failures under: a digest of the
    telephony's caller id (a phone number is personal data: it is never stored as such)."""
    return "hotline:" + hashlib.sha256(caller.encode()).hexdigest()[:24]


def _record(
    state: ivr.CallState, reply: ivr.Reply, backend: UseCaseBackend, previous: str
) -> StepRecord:
    return StepRecord(
        state_json=state.to_json(),
        previous_state_json=previous,
        step=state.step.value,
        language=state.language,
        path=list(state.path),
        heard=reply.heard,
        said=reply.say,
        person_id=state.person_id,
        reads=backend.reads,
        queued=backend.asked_for_agent,
        ended=reply.hangup,
        end_reason=reply.end_reason or None,
    )


class CallDriver:
    def __init__(self, rt: Runtime, channel: str) -> None:
        self.rt = rt
        self.channel = channel

    async def start(self, caller: str = "") -> Started:
        state = ivr.CallState()
        backend = UseCaseBackend(self.rt, client=line_client(caller))
        reply = await ivr.handle(state, ivr.Event(ivr.EventKind.START), backend)
        try:
            async with self.rt.sessions() as s:
                call_ref = await calls.start_call(
                    s, self.rt.clock, channel=self.channel, state_json="{}", language="zh"
                )
            async with self.rt.sessions() as s:
                first = _record(state, reply, backend, "{}")
                await calls.record_step(s, self.rt.clock, call_ref, first)
        except Exception:
            log.exception("hotline: a call could not be started")
            say = [phrase("zh", "busy_goodbye")]
            return Started("", "", ivr.Reply(say=say, expect=ivr.Expect.NOTHING, hangup=True))
        return Started(call_ref, state.to_json(), reply)

    async def step(
        self, call_ref: str, state_json: str, event: ivr.Event, caller: str = ""
    ) -> tuple[str, ivr.Reply]:
        """The next state (as JSON) and the reply; the state is unchanged if the step failed."""
        state = ivr.CallState.from_json(state_json)
        backend = UseCaseBackend(self.rt, client=line_client(caller or call_ref))
        try:
            reply = await ivr.handle(state, event, backend)
            async with self.rt.sessions() as s:
                record = _record(state, reply, backend, state_json)
                await calls.record_step(s, self.rt.clock, call_ref, record)
        except Exception:
            log.exception("hotline: a step of call %s could not be completed", call_ref)
            before = ivr.CallState.from_json(state_json)
            if event.kind == ivr.EventKind.HANGUP:
                return state_json, ivr.Reply(say=[], expect=ivr.Expect.NOTHING, hangup=True)
            return state_json, ivr.busy(before)
        return state.to_json(), reply
