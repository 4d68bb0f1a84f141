"""The agent desk over HTTP: the queue, taking a call, identifying by questions, the audited read."""

from __future__ import annotations

import httpx

from tests.support.family import staff_member, staff_sign_in
from tests.support.hotline import hotline_world
from yibao.audit import service as audit
from yibao.calls import service as calls
from yibao.hotline.driver import CallDriver
from yibao.hotline.ivr import Event, EventKind
from yibao.runtime import Runtime


async def _caller_asks_for_agent(runtime: Runtime) -> str:
    driver = CallDriver(runtime, "test")
    started = await driver.start()
    state = started.state_json
    for keys in ("1", "0"):
        state, _ = await driver.step(started.call_ref, state, Event(EventKind.KEYS, keys))
    return started.call_ref


async def test_agent_identifies_an_unidentified_caller_and_reads_the_account(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    w = await hotline_world(runtime)
    ref = await _caller_asks_for_agent(runtime)
    await staff_member(runtime, "agent1", ["clerk"], "李坐席")
    await staff_sign_in(client, "agent1")
    csrf = str(client.cookies.get("yibao_csrf"))

    desk = await client.get("/staff/hotline")
    assert desk.status_code == 200
    assert "未验证身份" in desk.text and "放弃率" in desk.text
    async with runtime.sessions() as s:
        call = await calls.call_by_ref(s, ref)
    r = await client.post(f"/staff/hotline/{call.id}/take", data={"csrf_token": csrf})
    assert r.status_code == 303
    page = await client.get(f"/staff/hotline/{call.id}")
    assert "核实身份" in page.text and "普通话请按1" in page.text  # what the caller heard

    # no account read before the caller is identified
    r = await client.post(f"/staff/hotline/{call.id}/account", data={"csrf_token": csrf})
    assert r.status_code == 409
    bad = w.caller.id_number[:17] + ("0" if w.caller.id_number[17] != "0" else "1")
    r = await client.post(
        f"/staff/hotline/{call.id}/identify", data={"csrf_token": csrf, "id_number": bad}
    )
    assert r.status_code == 422 and "校验位" in r.text
    r = await client.post(
        f"/staff/hotline/{call.id}/identify",
        data={"csrf_token": csrf, "id_number": w.caller.id_number},
    )
    assert r.status_code == 303
    r = await client.post(f"/staff/hotline/{call.id}/account", data={"csrf_token": csrf})
    assert r.status_code == 200
    assert "坐席问询核实" in r.text and "王芳" in r.text
    assert w.caller.id_number not in r.text  # masked

    async with runtime.sessions() as s:
        record = await calls.call_by_ref(s, ref)
        lines = await audit.lookups_for_person(s, w.caller.person_id)
    assert record.identified_by == "agent"
    reasons = {(line.action_name, line.reason) for line in lines}
    assert ("查看个人账户", "热线来电") in reasons
    assert ("热线坐席核实来电人身份", "热线来电") in reasons

    r = await client.post(f"/staff/hotline/{call.id}/end", data={"csrf_token": csrf})
    assert r.status_code == 303
    home = await client.get("/staff")
    assert "今日热线来电" in home.text


async def test_a_caller_who_hung_up_cannot_be_taken(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await hotline_world(runtime)
    ref = await _caller_asks_for_agent(runtime)
    driver = CallDriver(runtime, "test")
    async with runtime.sessions() as s:
        call = await calls.call_by_ref(s, ref)
    await driver.step(ref, call.state_json, Event(EventKind.HANGUP))
    await staff_member(runtime, "agent2", ["clerk"], "赵坐席")
    await staff_sign_in(client, "agent2")
    csrf = str(client.cookies.get("yibao_csrf"))
    r = await client.post(f"/staff/hotline/{call.id}/take", data={"csrf_token": csrf})
    assert r.status_code == 409
    desk = await client.get("/staff/hotline")
    assert "没有等待中的来电" in desk.text
