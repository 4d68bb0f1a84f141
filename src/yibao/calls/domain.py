"""Rules of the hotline's call records (热线来电记录).

- Every call is one record from its first event to its end: when it started and ended, the menu
  path, whether the caller was identified (by keys, or by an agent's questions), whether it went
  to an agent, and a transcript of what was said. The transcript holds what the menu said and the
  menu keys pressed; an ID number or a password typed on the keypad appears only as a mark
  ([身份证号码], [密码]), never as digits.
- A caller who asks for an agent waits in the queue; a staff member takes the call. A call that
  ends while it waits is abandoned (放弃): the call centre's abandonment rate is abandoned calls
  over calls that asked for an agent.
- Every read of an identified caller's account on the line is on the person's 查询记录.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from yibao.kernel.errors import Conflict, NotFound


class CallNotFound(NotFound):
    code = "call_not_found"


class CallAlreadyTaken(Conflict):
    code = "call_already_taken"


class CallEnded(Conflict):
    code = "call_ended"


class CallMovedOn(Conflict):
    """Two events of one call raced (a PBX retrying, say): the later one started from a state
    the call has left, and is refused rather than written over the first."""

    code = "call_moved_on"


class IdentifiedBy(StrEnum):
    KEYS = "keys"
    AGENT = "agent"


IDENTIFIED_BY_NAMES = {"keys": "按键验证（身份证号码和医保卡密码）", "agent": "坐席问询核实"}
SPEAKER_NAMES = {"ivr": "语音", "caller": "来电人", "agent": "坐席"}

# Abandoned: it asked for an agent and ended before one took it.
END_REASON_NAMES = {
    "completed": "自助结束",
    "hangup": "来电人挂机",
    "silence": "无按键结束",
    "wrong_keys": "输入错误过多",
    "agent_done": "坐席结束",
    "busy": "系统繁忙",
}


@dataclass(frozen=True, slots=True)
class Said:
    """One line of the transcript."""

    at: datetime
    by: str  # ivr | caller | agent
    text: str


def transcript_json(lines: Iterable[Said]) -> list[dict[str, str]]:
    return [{"at": s.at.isoformat(), "by": s.by, "text": s.text} for s in lines]


def parse_transcript(text: str) -> list[Said]:
    return [
        Said(datetime.fromisoformat(d["at"]), d["by"], d["text"]) for d in json.loads(text or "[]")
    ]


@dataclass(frozen=True, slots=True)
class StepRecord:
    """What one step of a call adds to its record (the IVR's reply, in plain values)."""

    state_json: str
    previous_state_json: str  # the state the step started from
    step: str
    language: str
    path: Sequence[str]
    heard: str = ""
    said: Sequence[str] = ()
    person_id: int | None = None  # set once the caller is identified by keys
    reads: Sequence[str] = ()  # which account readings were spoken (for 查询记录)
    queued: bool = False
    ended: bool = False
    end_reason: str | None = None
    transcript: list[Said] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class HourFigures:
    hour: int  # 0..23, China time
    calls: int
    identified: int
    asked_for_agent: int
    abandoned: int

    @property
    def abandonment_percent(self) -> int | None:
        if not self.asked_for_agent:
            return None
        return round(100 * self.abandoned / self.asked_for_agent)


@dataclass(frozen=True, slots=True)
class CallFacts:
    hour: int
    identified: bool
    queued: bool
    taken: bool
    ended: bool


def is_abandoned(facts: CallFacts) -> bool:
    return facts.queued and facts.ended and not facts.taken


def figures_by_hour(calls: Iterable[CallFacts]) -> list[HourFigures]:
    """Hours with at least one call, in order."""
    by_hour: dict[int, list[CallFacts]] = {}
    for c in calls:
        by_hour.setdefault(c.hour, []).append(c)
    return [
        HourFigures(
            hour=hour,
            calls=len(cs),
            identified=sum(c.identified for c in cs),
            asked_for_agent=sum(c.queued for c in cs),
            abandoned=sum(is_abandoned(c) for c in cs),
        )
        for hour, cs in sorted(by_hour.items())
    ]
