"""POST /peer/v1/{kind}: another deployment's signed message; the answer is signed by this one.

Authenticated by the message's own signature (crossregion.service.receive), not by a session:
the path is among the gateway-authenticated prefixes of web/sessions.py.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from yibao.config import MissingSecret
from yibao.crossregion import service
from yibao.crossregion.link import answer_headers, dumps
from yibao.runtime import Runtime

router = APIRouter(prefix="/peer/v1", tags=["异地就医（部署之间）"], include_in_schema=False)

# A body past this is not one of ours (a day's reconciliation list of 20,000 ids fits).
MAX_BODY = 2 * 1024 * 1024


@router.post("/{kind}")
async def peer_message(kind: str, request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    try:
        signer = service.signer_of(runtime)
    except MissingSecret:
        # A production deployment without YIBAO_PEER_KEY takes part in no exchange; nothing is
        # done for a message it could not sign the answer of.
        refused = dumps({"ok": False, "code": "not_enabled", "err_msg": "本平台未启用异地就医"})
        return Response(refused, status_code=503, media_type="application/json")
    body = await request.body()
    if len(body) > MAX_BODY:
        received = service.Received(413, {"ok": False, "code": "too_large", "err_msg": "报文过大"})
    else:
        received = await service.receive(runtime, service.HANDLERS, kind, request.headers, body)
    raw = dumps(received.answer)
    headers = answer_headers(signer, kind, raw)
    return Response(
        raw, status_code=received.status, media_type="application/json", headers=headers
    )
