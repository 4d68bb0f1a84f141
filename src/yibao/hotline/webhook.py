"""The webhook adapter: a PBX or a cloud telephony service posts each call event over HTTP and
yibao answers what to say next, so an existing call centre (Asterisk through AGI or ARI, a
cloud contact centre) fronts the menu with its own lines, speech and keypad collection.

One POST per event, JSON:
  {"event": "start" | "keys" | "silence" | "hangup", "call": "<call ref>", "keys": "…"}
(`call` is absent on "start"; the answer gives it). Signed with the shared secret
(YIBAO_HOTLINE_WEBHOOK_SECRET): `X-Yibao-Timestamp` (Unix seconds) and `X-Yibao-Signature`, the
hex HMAC-SHA256 of "<timestamp>.<body>". A request older or newer than five minutes is refused,
so a recorded request cannot be played again later. The answer:
  {"call": ref, "say": ["…"], "text": "…", "expect": "key" | "id_number" | "password" | "nothing",
   "max_keys": n, "timeout_seconds": t, "transfer": bool, "hangup": bool}
The server keeps nothing in memory between events: the menu's state is in the call's record.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from yibao.calls import service as calls
from yibao.calls.domain import CallNotFound
from yibao.hotline.driver import CallDriver
from yibao.hotline.ivr import Event, EventKind, Expect, Reply
from yibao.hotline.phrases import phrase
from yibao.runtime import Runtime

router = APIRouter(prefix="/hotline", include_in_schema=False)

MAX_SKEW_SECONDS = 300
MAX_BODY = 4096


class CallEvent(BaseModel):
    event: Literal["start", "keys", "silence", "hangup"]
    call: str = Field("", max_length=40)
    keys: str = Field("", max_length=40, pattern=r"^[0-9*#]*$")
    caller: str = Field("", max_length=40)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _refuse(status: int, error: str) -> JSONResponse:
    return JSONResponse({"error": error}, status_code=status)


def _answer(call_ref: str, reply: Reply, timeout: float) -> JSONResponse:
    body: dict[str, Any] = {
        "call": call_ref,
        "say": reply.say,
        "text": "".join(reply.say) if reply.say else "",
        "expect": reply.expect.value,
        "max_keys": reply.max_keys,
        "timeout_seconds": timeout if reply.expect != Expect.NOTHING else 0,
        "transfer": reply.transfer,
        "hangup": reply.hangup,
    }
    return JSONResponse(body)


def _signed(request: Request, secret: str, body: bytes) -> bool:
    timestamp = request.headers.get("x-yibao-timestamp", "")
    signature = request.headers.get("x-yibao-signature", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_SKEW_SECONDS:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


@router.post("/webhook")
async def webhook(request: Request) -> JSONResponse:
    rt: Runtime = request.app.state.runtime
    secret = rt.settings.hotline_webhook_secret
    if not secret:
        return _refuse(404, "not_found")
    body = await request.body()
    if len(body) > MAX_BODY:
        return _refuse(413, "too_large")
    if not _signed(request, secret, body):
        return _refuse(401, "bad_signature")
    try:
        event = CallEvent.model_validate_json(body)
    except ValidationError:
        return _refuse(422, "bad_event")
    timeout = rt.settings.hotline_key_timeout_seconds
    driver = CallDriver(rt, "webhook")
    if event.event == "start":
        started = await driver.start(event.caller)
        return _answer(started.call_ref, started.reply, timeout)
    try:
        async with rt.sessions() as s:
            call = await calls.call_by_ref(s, event.call)
            state_json = call.state_json
    except CallNotFound:
        return _refuse(404, "unknown_call")
    except Exception:
        say = [phrase("zh", "busy_goodbye")]
        return _answer(event.call, Reply(say=say, expect=Expect.NOTHING, hangup=True), timeout)
    _, reply = await driver.step(
        event.call, state_json, Event(EventKind(event.event), event.keys), event.caller
    )
    return _answer(event.call, reply, timeout)
