"""The voice menu (IVR) as a state machine: an event and the call's state in, the next state and
what to say out. No telephony and no database inside: the `Backend` reaches the use cases, an
adapter (webhook, SIP) carries keys in and speech out, and `driver` records each step.

Rules the machine keeps:
- nothing about the account is read out before the caller is identified by ID number and 医保卡
  密码 (or by an agent);
- `*` repeats what was just said, `#` goes back one level, `0` asks for an agent, in every menu
  (while a number is being typed its keys are the number's: `*` is the letter X, `0` a digit);
- two silences in a row, or three wrong entries in one place, end the call politely;
- a key pressed while the menu speaks (barge-in) is simply the next input: speech stops there.
The state is plain data (`to_json`/`from_json`), so a webhook server keeps none in memory.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Protocol

from yibao.hotline.phrases import phrase
from yibao.hotline.readings import SERVICE_KEYS, Reading, Service, sentences

MAX_WRONG = 3
MAX_SILENCES = 2
ID_KEYS = 18
PASSWORD_KEYS = 6


class Step(StrEnum):
    LANGUAGE = "language"
    MENU = "menu"
    ID_NUMBER = "id_number"
    PASSWORD = "password"  # noqa: S105 - a step's name
    READ = "read"
    QUEUED = "queued"
    ENDED = "ended"


class Expect(StrEnum):
    """What the adapter collects next: one menu key, a number of fixed length, or nothing."""

    KEY = "key"
    ID_NUMBER = "id_number"
    PASSWORD = "password"  # noqa: S105
    NOTHING = "nothing"


EXPECTED_KEYS = {Expect.KEY: 1, Expect.ID_NUMBER: ID_KEYS, Expect.PASSWORD: PASSWORD_KEYS}


class EventKind(StrEnum):
    START = "start"
    KEYS = "keys"
    SILENCE = "silence"
    HANGUP = "hangup"


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    keys: str = ""


class Refusal(StrEnum):
    BAD_ID = "bad_id"
    BAD_ID_SHAPE = "bad_id_shape"
    UNKNOWN_PERSON = "unknown_person"
    NO_CARD_PASSWORD = "no_card_password"  # noqa: S105
    WRONG_PASSWORD = "wrong_password"  # noqa: S105
    LOCKED = "locked"
    THROTTLED = "throttled"


class CallerRefused(Exception):
    """The backend's answer to an identification that did not succeed, in the menu's words."""

    def __init__(self, refusal: Refusal, *, left: int = 0, until: str = "") -> None:
        super().__init__(refusal.value)
        self.refusal = refusal
        self.left = left
        self.until = until


class Backend(Protocol):
    async def find_caller(self, id_number: str) -> int:
        """The person id for an ID number typed on the keypad; raises CallerRefused."""

    async def check_card_password(self, person_id: int, card_password: str) -> None:
        """Raises CallerRefused; the card-password lockout counts every wrong one."""

    async def read(self, person_id: int, service: Service) -> Reading: ...

    async def ask_for_agent(self) -> None: ...


@dataclass
class CallState:
    step: Step = Step.LANGUAGE
    language: str = "zh"
    person_id: int | None = None  # set once identified
    candidate_id: int | None = None  # the person the typed ID number names, until the password
    service: Service | None = None  # what the caller asked for before identifying
    wrong: int = 0
    silences: int = 0
    last_said: list[str] = field(default_factory=list)
    last_expect: Expect = Expect.KEY
    path: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> CallState:
        raw = json.loads(text)
        raw["step"] = Step(raw["step"])
        raw["last_expect"] = Expect(raw["last_expect"])
        raw["service"] = Service(raw["service"]) if raw["service"] else None
        return cls(**raw)

    @property
    def identified(self) -> bool:
        return self.person_id is not None


@dataclass(frozen=True, slots=True)
class Reply:
    say: list[str]
    expect: Expect
    hangup: bool = False
    transfer: bool = False
    heard: str = ""  # what the caller pressed, for the transcript (never a number they typed)
    end_reason: str = ""  # completed | hangup | silence | wrong_keys, when the call ends here

    @property
    def max_keys(self) -> int:
        return EXPECTED_KEYS.get(self.expect, 0)


def _speak(state: CallState, say: list[str], expect: Expect, heard: str = "") -> Reply:
    state.last_said = say
    state.last_expect = expect
    return Reply(say=say, expect=expect, heard=heard)


def _end(state: CallState, say: list[str], reason: str, heard: str = "") -> Reply:
    state.step = Step.ENDED
    state.path.append("end")
    return Reply(say=say, expect=Expect.NOTHING, hangup=True, heard=heard, end_reason=reason)


def _p(state: CallState, key: str, **values: object) -> str:
    return phrase(state.language, key, **values)


def prompt(state: CallState) -> tuple[list[str], Expect]:
    """What the current step asks for, said again after a wrong key or a silence."""
    if state.step == Step.LANGUAGE:
        return [_p(state, "language")], Expect.KEY
    if state.step == Step.MENU:
        return [_p(state, "menu")], Expect.KEY
    if state.step == Step.ID_NUMBER:
        return [_p(state, "ask_id")], Expect.ID_NUMBER
    if state.step == Step.PASSWORD:
        return [_p(state, "ask_password")], Expect.PASSWORD
    if state.step == Step.READ:
        return [_p(state, "after_reading")], Expect.KEY
    return [_p(state, "hold")], Expect.NOTHING


def _go(state: CallState, step: Step, before: list[str] | None = None, heard: str = "") -> Reply:
    state.step = step
    state.wrong = 0
    say, expect = prompt(state)
    return _speak(state, [*(before or []), *say], expect, heard)


def _wrong(state: CallState, message: str, heard: str) -> Reply:
    state.wrong += 1
    if state.wrong >= MAX_WRONG:
        return _end(state, [message, _p(state, "too_many_wrong")], "wrong_keys", heard)
    say, expect = prompt(state)
    return _speak(state, [message, *say], expect, heard)


async def handle(state: CallState, event: Event, backend: Backend) -> Reply:
    """One step of the call: `state` is changed in place; the reply says what to do next."""
    if state.step == Step.ENDED:
        return Reply(say=[], expect=Expect.NOTHING, hangup=True)
    if event.kind == EventKind.HANGUP:
        state.path.append("hangup")
        state.step = Step.ENDED
        return Reply(say=[], expect=Expect.NOTHING, hangup=True, end_reason="hangup")
    if event.kind == EventKind.START:
        state.path.append("welcome")
        return _go(state, Step.LANGUAGE, [phrase("zh", "welcome")])
    if state.step == Step.QUEUED:
        return _speak(state, [_p(state, "hold")], Expect.NOTHING)
    if event.kind == EventKind.SILENCE:
        state.silences += 1
        if state.silences >= MAX_SILENCES:
            return _end(state, [_p(state, "silence_goodbye")], "silence")
        say, expect = prompt(state)
        return _speak(state, [_p(state, "no_key"), *say], expect)
    state.silences = 0
    keys = event.keys
    if state.step == Step.ID_NUMBER:
        return await _id_number(state, keys, backend)
    if state.step == Step.PASSWORD:
        return await _password(state, keys, backend)
    return await _menu_key(state, keys[:1], backend)


async def _menu_key(state: CallState, key: str, backend: Backend) -> Reply:
    if key == "*":
        return _speak(state, state.last_said, state.last_expect, heard="*")
    if key == "0":
        state.path.append("agent")
        state.step = Step.QUEUED
        await backend.ask_for_agent()
        reply = _speak(state, [_p(state, "agent")], Expect.NOTHING, heard="0")
        return Reply(say=reply.say, expect=reply.expect, transfer=True, heard="0")
    if key == "#":
        state.path.append("back")
        back = Step.MENU if state.step == Step.READ else Step.LANGUAGE
        return _go(state, back, heard="#")
    if state.step == Step.LANGUAGE:
        if key not in ("1", "2"):
            return _wrong(state, _p(state, "wrong_key"), key)
        state.language = "zh" if key == "1" else "en"
        state.path.append(f"language:{state.language}")
        return _go(state, Step.MENU, heard=key)
    if key not in SERVICE_KEYS:
        return _wrong(state, _p(state, "wrong_key"), key)
    state.service = SERVICE_KEYS[key]
    state.path.append(state.service.value)
    if not state.identified:
        return _go(state, Step.ID_NUMBER, heard=key)
    return await _read(state, [], backend, heard=key)


async def _read(state: CallState, before: list[str], backend: Backend, heard: str) -> Reply:
    assert state.person_id is not None and state.service is not None  # identified first, always
    reading = await backend.read(state.person_id, state.service)
    state.step = Step.READ
    state.wrong = 0
    return _speak(
        state, [*before, *sentences(reading, state.language), _p(state, "after_reading")],
        Expect.KEY, heard,
    )  # fmt: skip


def _refused(state: CallState, refused: CallerRefused) -> str:
    return _p(state, refused.refusal.value, left=refused.left, until=refused.until)


async def _id_number(state: CallState, keys: str, backend: Backend) -> Reply:
    if keys == "#":
        state.path.append("back")
        return _go(state, Step.MENU, heard="#")
    typed = keys.replace("*", "X")
    try:
        if len(typed) != ID_KEYS:
            raise CallerRefused(Refusal.BAD_ID_SHAPE)
        state.candidate_id = await backend.find_caller(typed)
    except CallerRefused as refused:
        return _wrong(state, _refused(state, refused), "[身份证号码]")
    state.path.append("id_number")
    return _go(state, Step.PASSWORD, heard="[身份证号码]")


async def _password(state: CallState, keys: str, backend: Backend) -> Reply:
    if keys == "#":
        state.path.append("back")
        state.candidate_id = None
        return _go(state, Step.MENU, heard="#")
    assert state.candidate_id is not None
    try:
        await backend.check_card_password(state.candidate_id, keys)
    except CallerRefused as refused:
        if refused.refusal in (Refusal.LOCKED, Refusal.NO_CARD_PASSWORD, Refusal.THROTTLED):
            # No point asking again: back to the menu, where 0 still reaches an agent.
            state.candidate_id = None
            state.path.append(refused.refusal.value)
            return _go(state, Step.MENU, [_refused(state, refused)], heard="[密码]")
        state.path.append("wrong_password")
        return _wrong(state, _refused(state, refused), "[密码]")
    state.person_id, state.candidate_id = state.candidate_id, None
    state.path.append("identified")
    return await _read(state, [_p(state, "identified")], backend, heard="[密码]")


def busy(state: CallState) -> Reply:
    """What a step that could not finish says: the state is the one before the step."""
    say, expect = prompt(state)
    return Reply(say=[_p(state, "busy"), *say], expect=expect)
