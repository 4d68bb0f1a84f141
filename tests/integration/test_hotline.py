"""The hotline's voice menu on the real use cases, through the driver every adapter uses."""

from __future__ import annotations

import json

import pytest

from tests.support.hotline import FOR_PARENT_FEN, hotline_world, id_keys
from tests.support.identity import CARD_PASSWORD
from yibao.audit import service as audit
from yibao.calls import repository as calls_repository
from yibao.calls import service as calls
from yibao.hotline.driver import CallDriver
from yibao.hotline.ivr import Event, EventKind, Reply
from yibao.hotline.speech import chinese_money
from yibao.runtime import Runtime


class Call:
    def __init__(self, rt: Runtime) -> None:
        self.driver = CallDriver(rt, "test")
        self.ref = ""
        self.state = ""

    async def start(self) -> Reply:
        started = await self.driver.start()
        self.ref, self.state = started.call_ref, started.state_json
        return started.reply

    async def press(self, keys: str) -> Reply:
        return await self.event(Event(EventKind.KEYS, keys))

    async def event(self, event: Event) -> Reply:
        self.state, reply = await self.driver.step(self.ref, self.state, event)
        return reply


async def test_identify_balance_family_payments_and_agent(runtime: Runtime) -> None:
    w = await hotline_world(runtime)
    call = Call(runtime)
    await call.start()
    await call.press("1")  # 普通话
    asked = await call.press("1")  # balance
    assert "身份证" in asked.say[0]
    await call.press(id_keys(w.caller.id_number))
    balance = await call.press(CARD_PASSWORD)
    said = " ".join(balance.say)
    assert chinese_money(w.balance_fen) in said, said
    await call.press("#")
    family = " ".join((await call.press("4")).say)
    assert "王建国" in family and chinese_money(FOR_PARENT_FEN) in family, family
    agent = await call.press("0")
    assert agent.transfer

    async with runtime.sessions() as s:
        record = await calls.call_by_ref(s, call.ref)
        assert record.identified_by == "keys" and record.person_id == w.caller.person_id
        assert record.queued_at is not None and record.ended_at is None
        assert record.menu_path.startswith("welcome>language:zh>balance>id_number>identified")
        text = record.transcript_json + record.state_json + record.menu_path
        assert w.caller.id_number not in text and CARD_PASSWORD not in text
        assert chinese_money(w.balance_fen) in text
        waiting = await calls.waiting_calls(s)
        assert [c.call_ref for c in waiting] == [call.ref]
        lines = await audit.lookups_for_person(s, w.caller.person_id)
    assert [line.action_name for line in lines].count("热线语音查询") == 2
    assert all(line.reason == "热线来电" for line in lines if line.action_name == "热线语音查询")

    await call.event(Event(EventKind.HANGUP))  # hangs up while waiting: abandoned
    async with runtime.sessions() as s:
        figures = await calls.figures_for_day(s, runtime.clock)
    assert sum(f.calls for f in figures) == 1
    assert sum(f.abandoned for f in figures) == 1


async def test_wrong_and_locked_card_passwords_are_said(runtime: Runtime) -> None:
    w = await hotline_world(runtime)
    call = Call(runtime)
    await call.start()
    await call.press("1")
    await call.press("1")
    await call.press(id_keys(w.caller.id_number))
    reply = await call.press("000000")
    assert "还可以再试4次" in reply.say[0]
    # The count is the card's, across calls and channels (tests/integration/test_card_password.py).
    for _ in range(2):
        await call.press("000000")
    call2 = Call(runtime)
    await call2.start()
    await call2.press("1")
    await call2.press("1")
    await call2.press(id_keys(w.caller.id_number))
    await call2.press("000000")
    locked = await call2.press("000000")
    assert "锁定" in locked.say[0]
    # even the right password is refused while locked, and nothing is read out
    await call2.press("1")
    await call2.press(id_keys(w.caller.id_number))
    still = await call2.press(CARD_PASSWORD)
    assert "锁定" in still.say[0]
    assert chinese_money(w.balance_fen) not in " ".join(still.say)


async def test_bad_check_digit_and_unknown_person(runtime: Runtime) -> None:
    w = await hotline_world(runtime)
    call = Call(runtime)
    await call.start()
    await call.press("1")
    await call.press("1")
    wrong_digit = w.caller.id_number[:17] + ("0" if w.caller.id_number[17] != "0" else "1")
    reply = await call.press(id_keys(wrong_digit))
    assert "校验位" in reply.say[0]
    unknown = "11010519491231002X"
    reply = await call.press(id_keys(unknown))
    assert "没有查到" in reply.say[0]
    reply = await call.press("1" * 18)
    assert reply.hangup and "再见" in reply.say[-1]


async def test_database_failing_mid_call_leaves_the_call_as_it_was(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = await hotline_world(runtime)
    call = Call(runtime)
    await call.start()
    await call.press("1")
    await call.press("1")
    await call.press(id_keys(w.caller.id_number))
    before = call.state

    async def down(*args: object, **kwargs: object) -> None:
        raise ConnectionRefusedError("the database is restarting")

    monkeypatch.setattr(calls, "record_step", down)
    reply = await call.press(CARD_PASSWORD)
    assert "系统暂时繁忙" in reply.say[0]
    assert chinese_money(w.balance_fen) not in " ".join(reply.say)
    assert call.state == before
    monkeypatch.undo()
    reply = await call.press(CARD_PASSWORD)
    assert chinese_money(w.balance_fen) in " ".join(reply.say)
    async with runtime.sessions() as s:
        record = await calls_repository.by_ref(s, call.ref)
        assert record is not None
        reads = await audit.lookups_for_person(s, w.caller.person_id)
    # the failed step read the balance but never said it: only the second one is on 查询记录
    assert [r.action_name for r in reads].count("热线语音查询") == 1
    assert json.loads(record.state_json)["person_id"] == w.caller.person_id


async def test_two_events_racing_from_one_state_write_once(runtime: Runtime) -> None:
    """A PBX that retries an event: the second starts from a state the call has left."""
    w = await hotline_world(runtime)
    call = Call(runtime)
    await call.start()
    await call.press("1")
    before = call.state
    first = await call.press("1")
    assert "身份证" in first.say[0]
    _, again = await call.driver.step(call.ref, before, Event(EventKind.KEYS, "2"))
    assert "系统暂时繁忙" in again.say[0]
    async with runtime.sessions() as s:
        record = await calls.call_by_ref(s, call.ref)
    assert record.state_json == call.state
    assert record.menu_path.endswith(">balance")
    assert w.caller.person_id != record.person_id
