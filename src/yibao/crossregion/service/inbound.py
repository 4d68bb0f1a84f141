"""The receiving side of the API between deployments: who sent it, is it fresh, once only.

`receive` checks, in this order: the sender is a deployment of the directory; the timestamp is
within the window; the signature over kind, sender, timestamp, nonce and the body's digest holds
with the sender's public key; the nonce was not seen (short-lived state, rule 11). Then the kind's
use case runs on its own transaction. A refusal of the business is an answer
`{"ok": false, "code", "err_msg"}` with HTTP 200; a message that fails the checks is HTTP 401.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog

from yibao.crossregion import repository
from yibao.crossregion.domain import BadPeerMessage, signing_text, within_window
from yibao.crossregion.signing import verify
from yibao.kernel.errors import DomainError
from yibao.runtime import Runtime

log = structlog.get_logger("yibao.crossregion")


@dataclass(frozen=True, slots=True)
class Sender:
    deployment: str
    regions: frozenset[str]


Handler = Callable[[Runtime, Sender, dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Received:
    status: int
    answer: dict[str, Any]


def refusal(exc: DomainError) -> dict[str, Any]:
    return {"ok": False, "code": exc.code, "err_msg": exc.message}


async def authenticate(
    runtime: Runtime, kind: str, headers: Mapping[str, str], body: bytes
) -> Sender | None:
    deployment = headers.get("x-yibao-peer", "")
    timestamp = headers.get("x-yibao-timestamp", "")
    nonce = headers.get("x-yibao-nonce", "")
    signature = headers.get("x-yibao-signature", "")
    if not deployment or not nonce or len(nonce) > 64:
        return None
    async with runtime.sessions() as session:
        peers = await repository.peers_of_deployment(session, deployment)
    if not peers or any(p.local for p in peers):
        return None
    if not within_window(timestamp, int(time.time()), runtime.settings.peer_window_seconds):
        return None
    text = signing_text(kind, deployment, timestamp, nonce, body)
    # During a key rotation either of the sender's keys (the directory's current or next) signs.
    if not any(verify(key, signature, text) for key in peers[0].public_keys):
        return None
    window = timedelta(seconds=2 * runtime.settings.peer_window_seconds)
    if not await runtime.ephemeral.add(f"peer-nonce:{deployment}:{nonce}", "1", window):
        return None
    return Sender(deployment, frozenset(p.admdvs for p in peers))


async def receive(
    runtime: Runtime,
    handlers: Mapping[str, Handler],
    kind: str,
    headers: Mapping[str, str],
    body: bytes,
) -> Received:
    handler = handlers.get(kind)
    if handler is None:
        return Received(404, {"ok": False, "code": "unknown_kind", "err_msg": f"未知报文 {kind}"})
    sender = await authenticate(runtime, kind, headers, body)
    if sender is None:
        log.warning("peer_refused", kind=kind, sender=headers.get("x-yibao-peer", "")[:40])
        return Received(401, {"ok": False, "code": "unauthenticated", "err_msg": "签名无效"})
    try:
        payload = json.loads(body)
        if not isinstance(payload, dict):
            raise BadPeerMessage("报文应为 JSON 对象")
        return Received(200, {"ok": True, **await handler(runtime, sender, payload)})
    except ValueError:
        return Received(200, refusal(BadPeerMessage("报文不是有效的 JSON")))
    except DomainError as exc:
        return Received(200, refusal(exc))


def text_field(payload: Mapping[str, Any], name: str, max_len: int = 80) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise BadPeerMessage(f"报文字段 {name} 缺失或无效")
    return value


def int_field(payload: Mapping[str, Any], name: str) -> int:
    value = payload.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise BadPeerMessage(f"报文字段 {name} 应为非负整数（分）")
    return value
