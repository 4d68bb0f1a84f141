"""The webhook adapter: a PBX drives a whole call over HTTP, signed with the shared secret."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from tests.support.hotline import FOR_PARENT_FEN, hotline_world, id_keys
from tests.support.identity import CARD_PASSWORD
from yibao.audit import service as audit
from yibao.calls import service as calls
from yibao.config import Settings
from yibao.hotline.speech import chinese_money
from yibao.hotline.webhook import sign
from yibao.runtime import Runtime

SECRET = "pbx-shared-secret-" + "s" * 16


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"hotline_webhook_secret": SECRET})


async def post(
    client: httpx.AsyncClient, event: dict[str, Any], *, secret: str = SECRET, at: int | None = None
) -> httpx.Response:
    body = json.dumps(event).encode()
    timestamp = str(at if at is not None else int(time.time()))
    return await client.post(
        "/hotline/webhook",
        content=body,
        headers={
            "content-type": "application/json",
            "x-yibao-timestamp": timestamp,
            "x-yibao-signature": sign(secret, timestamp, body),
        },
    )


async def test_a_whole_journey_over_http(client: httpx.AsyncClient, runtime: Runtime) -> None:
    w = await hotline_world(runtime)
    r = await post(client, {"event": "start", "caller": "pbx-line-7"})
    assert r.status_code == 200, r.text
    first = r.json()
    ref = first["call"]
    assert first["expect"] == "key" and "普通话请按1" in first["text"]

    async def keys(k: str) -> dict[str, Any]:
        r = await post(client, {"event": "keys", "call": ref, "keys": k})
        assert r.status_code == 200, r.text
        return dict(r.json())

    await keys("1")
    asked = await keys("1")
    assert asked["expect"] == "id_number" and asked["max_keys"] == 18
    assert (await keys(id_keys(w.caller.id_number)))["expect"] == "password"
    balance = await keys(CARD_PASSWORD)
    assert chinese_money(w.balance_fen) in balance["text"]
    await keys("#")
    family = await keys("4")
    assert chinese_money(FOR_PARENT_FEN) in family["text"] and "王建国" in family["text"]
    agent = await keys("0")
    assert agent["transfer"] is True and agent["hangup"] is False

    async with runtime.sessions() as s:
        waiting = await calls.waiting_calls(s)
        assert [c.call_ref for c in waiting] == [ref]
        assert waiting[0].channel == "webhook" and waiting[0].identified_by == "keys"
        lines = await audit.lookups_for_person(s, w.caller.person_id)
    assert "热线语音查询" in [line.action_name for line in lines]

    gone = await post(client, {"event": "hangup", "call": ref})
    assert gone.json()["hangup"] is True


async def test_unsigned_stale_and_unknown_requests_are_refused(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    r = await post(client, {"event": "start"}, secret="not-the-secret")
    assert r.status_code == 401
    r = await post(client, {"event": "start"}, at=int(time.time()) - 3600)
    assert r.status_code == 401
    r = await client.post("/hotline/webhook", json={"event": "start"})
    assert r.status_code == 401
    r = await post(client, {"event": "keys", "call": "nope", "keys": "1"})
    assert r.status_code == 404
    r = await post(client, {"event": "keys", "call": "x", "keys": "<script>"})
    assert r.status_code == 422
    async with runtime.sessions() as s:
        assert await calls.waiting_calls(s) == []


async def test_no_secret_no_webhook(runtime: Runtime) -> None:
    from yibao.web.app import create_app

    runtime.settings = runtime.settings.model_copy(update={"hotline_webhook_secret": ""})
    transport = httpx.ASGITransport(app=create_app(runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        r = await post(c, {"event": "start"}, secret="")
    assert r.status_code == 404
