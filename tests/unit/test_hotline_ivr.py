"""The voice menu's rules, on a backend that stands in for the use cases."""

from __future__ import annotations

import asyncio
from datetime import date

from yibao.hotline.ivr import (
    Backend,
    CallerRefused,
    CallState,
    Event,
    EventKind,
    Expect,
    Refusal,
    Reply,
    Step,
    handle,
)
from yibao.hotline.readings import Reading, Service

GOOD_ID = "11010519491231002X"
PERSON = 7


class FakeBackend:
    def __init__(self, *, password: str = "135790", locked: bool = False) -> None:
        self.password = password
        self.locked = locked
        self.reads: list[Service] = []
        self.agent = False
        self.wrong = 0

    async def find_caller(self, id_number: str) -> int:
        if id_number != GOOD_ID:
            raise CallerRefused(Refusal.UNKNOWN_PERSON)
        return PERSON

    async def check_card_password(self, person_id: int, card_password: str) -> None:
        if self.locked:
            raise CallerRefused(Refusal.LOCKED, until="2026-12-07 21:00")
        if card_password != self.password:
            self.wrong += 1
            raise CallerRefused(Refusal.WRONG_PASSWORD, left=5 - self.wrong)

    async def read(self, person_id: int, service: Service) -> Reading:
        assert person_id == PERSON
        self.reads.append(service)
        return Reading(service, balance_fen=12345, as_of=date(2026, 12, 7))

    async def ask_for_agent(self) -> None:
        self.agent = True


def run(state: CallState, backend: Backend, *events: Event) -> Reply:
    async def go() -> Reply:
        reply = Reply(say=[], expect=Expect.NOTHING)
        for event in events:
            reply = await handle(state, event, backend)
        return reply

    return asyncio.run(go())


def keys(k: str) -> Event:
    return Event(EventKind.KEYS, k)


START = Event(EventKind.START)
SILENCE = Event(EventKind.SILENCE)


def test_balance_is_read_only_after_identification() -> None:
    state, backend = CallState(), FakeBackend()
    reply = run(state, backend, START, keys("1"), keys("1"))
    assert state.step == Step.ID_NUMBER and reply.expect == Expect.ID_NUMBER
    assert backend.reads == []
    assert not any("余额" in s for s in reply.say)
    reply = run(state, backend, keys(GOOD_ID.replace("X", "*")))
    assert state.step == Step.PASSWORD and backend.reads == []
    reply = run(state, backend, keys("135790"))
    assert backend.reads == [Service.BALANCE]
    assert state.identified
    assert any("一百二十三元四角五分" in s and "二零二六年十二月七日" in s for s in reply.say)
    assert reply.heard == "[密码]"  # never the digits


def test_star_repeats_hash_goes_back_zero_asks_for_an_agent() -> None:
    state, backend = CallState(), FakeBackend()
    first = run(state, backend, START, keys("1"))
    again = run(state, backend, keys("*"))
    assert again.say == first.say
    run(state, backend, keys("#"))
    assert state.step == Step.LANGUAGE
    run(state, backend, keys("2"))
    assert state.language == "en"
    reply = run(state, backend, keys("0"))
    assert reply.transfer and backend.agent and state.step == Step.QUEUED
    # waiting for an agent, silence never ends the call
    assert not run(state, backend, SILENCE).hangup


def test_three_wrong_keys_end_politely() -> None:
    state, backend = CallState(), FakeBackend()
    run(state, backend, START, keys("1"))
    assert not run(state, backend, keys("9")).hangup
    assert not run(state, backend, keys("8")).hangup
    reply = run(state, backend, keys("7"))
    assert reply.hangup and reply.end_reason == "wrong_keys"
    assert "再见" in reply.say[-1]


def test_two_silences_end_politely() -> None:
    state, backend = CallState(), FakeBackend()
    run(state, backend, START)
    assert not run(state, backend, SILENCE).hangup
    reply = run(state, backend, SILENCE)
    assert reply.hangup and reply.end_reason == "silence"


def test_bad_id_unknown_person_wrong_password_and_lock() -> None:
    state, backend = CallState(), FakeBackend()
    run(state, backend, START, keys("1"), keys("1"))
    reply = run(state, backend, keys("123"))
    assert "18位" in reply.say[0] and state.step == Step.ID_NUMBER
    reply = run(state, backend, keys("110105194912310021"))
    assert "没有查到" in reply.say[0]
    state.wrong = 0
    run(state, backend, keys(GOOD_ID))
    reply = run(state, backend, keys("000000"))
    assert "还可以再试4次" in reply.say[0] and not state.identified
    backend.locked = True
    reply = run(state, backend, keys("135790"))
    assert "锁定" in reply.say[0] and state.step == Step.MENU and not state.identified
    assert backend.reads == []


def test_state_survives_json() -> None:
    state, backend = CallState(), FakeBackend()
    run(state, backend, START, keys("1"), keys("4"), keys(GOOD_ID), keys("135790"))
    again = CallState.from_json(state.to_json())
    assert again == state
    assert GOOD_ID not in state.to_json() and "135790" not in state.to_json()


def test_hangup_mid_menu_ends_without_a_word() -> None:
    state, backend = CallState(), FakeBackend()
    reply = run(state, backend, START, keys("1"), Event(EventKind.HANGUP))
    assert reply.hangup and reply.say == [] and reply.end_reason == "hangup"
