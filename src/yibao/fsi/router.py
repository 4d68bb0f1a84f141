"""POST /fsi/api/rsfComIfsService/callService and POST /fsi/api/{infno}.

Order of checks: the envelope parses and names a row of the transaction table; then, inside the
message's one transaction (`settlement.service.answering`): the gateway signature holds (then the
nonce is remembered), the institution may send this transaction (`kinds`) and has signed in today
when its row (`sign_in`) or the region (`YIBAO_FSI_SIGN_IN_ALWAYS`) says it must; then the
row's handler runs, once per msgid. Every failure, a crash inside a handler included, answers
infcode -1 with HTTP 200 and writes nothing but its spent nonce.

A message uses one pooled connection and one transaction: the institution comes from the
per-process reference cache, and the nonce, the handler's writes and the stored answer commit
together in `answering` (the only place a message commits). A connection lost under a message
is retried once on a fresh one.

A row whose handler answers a file (`Reply.attachment`, 9102) is sent as the file's bytes
(`application/octet-stream`) instead of JSON, while the small JSON `output` naming the file is what
is kept for the msgid; a retried msgid gets the file again through the row's `resend`, on a
session of its own that only reads. Failures are JSON whatever the row.

`DirectRoute` serves both paths as plain ASGI, ahead of FastAPI's routing and dependency chain
and of the middleware inside it (the account pages' identity check, which steps aside for `/fsi/`
anyway): a message costs the server process what `dispatch` costs and little more. The FastAPI
routes below stay for the OpenAPI document and behave the same; what `DirectRoute` does not
take (another method, a deeper path) falls through to them and answers 405 or 404 as before.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from yibao.crossregion import service as crossregion
from yibao.fsi.call import Attachment, Call
from yibao.fsi.envelope import (
    Envelope,
    InvalidMessage,
    UnknownTransaction,
    answer,
    read_envelope,
    stamp,
)
from yibao.fsi.errors import FAILURE, INTERNAL_ERROR, SUCCESS
from yibao.fsi.transactions import CROSS_REGION, TRANSACTIONS, Transaction
from yibao.kernel.errors import DomainError
from yibao.runtime import Runtime
from yibao.settlement import service
from yibao.settlement.domain import INSTITUTION_TYPE_NAMES

log = structlog.get_logger("yibao.fsi")

router = APIRouter(prefix="/fsi/api", tags=["定点医药机构接口"])


async def dispatch(
    runtime: Runtime,
    body: bytes,
    headers: Headers,
    path_infno: str | None,
    table: Mapping[str, Transaction] = TRANSACTIONS,
) -> dict[str, Any] | Attachment:
    """The answer to one message (JSON, or a file for a row that answers one); `table` is the
    transaction table it is routed by."""
    clock = runtime.clock
    received = clock.now()
    refmsgid = f"{stamp(received)}{secrets.randbelow(10**8):08d}"
    try:
        envelope = read_envelope(body)
        if path_infno is not None and path_infno != envelope.infno:
            raise InvalidMessage(
                f"请求路径的交易编号 {path_infno} 与报文 infno {envelope.infno} 不一致"
            )
        if table is TRANSACTIONS and await _insured_elsewhere(runtime, envelope):
            table = CROSS_REGION
        transaction = table.get(envelope.infno)
        if transaction is None:
            raise UnknownTransaction(f"不支持的交易编号 infno={envelope.infno}")
        incoming = service.Incoming(
            msgid=envelope.msgid,
            infno=envelope.infno,
            fixmedins_code=envelope.fixmedins_code,
            digest=envelope.digest,
            received=received,
            paasid=headers.get("x-tif-paasid"),
            timestamp=headers.get("x-tif-timestamp"),
            nonce=headers.get("x-tif-nonce"),
            signature=headers.get("x-tif-signature"),
        )
        routed = (runtime, envelope, transaction, table, incoming, refmsgid)
        try:
            return await _answer(*routed)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            # The server dropped a pooled connection (no pre-ping: db/engine.py). SQLAlchemy has
            # discarded the pool; the message runs once more on a fresh connection. Had the
            # commit landed, the msgid's stored answer or the spent nonce says so.
            log.warning("fsi_retry_after_disconnect", infno=envelope.infno)
            return await _answer(*routed, retry=True)
    except DomainError as exc:
        return answer(
            infcode=FAILURE,
            refmsgid=refmsgid,
            received=received,
            responded=clock.now(),
            err_msg=exc.message,
        )
    except Exception:
        log.exception("fsi_internal_error", path_infno=path_infno)
        return answer(
            infcode=FAILURE,
            refmsgid=refmsgid,
            received=received,
            responded=clock.now(),
            err_msg=INTERNAL_ERROR,
        )


async def _insured_elsewhere(runtime: Runtime, envelope: Envelope) -> bool:
    """异地就医: the person's insured region is served by another deployment. A message naming no
    other region (the usual one) costs nothing; one that does reads the cached directory."""
    home = envelope.insuplc_admdvs
    if not home or home == envelope.mdtrtarea_admvs:
        return False
    return await crossregion.served_elsewhere(runtime, home) is not None


async def _answer(
    runtime: Runtime,
    envelope: Envelope,
    transaction: Transaction,
    table: Mapping[str, Transaction],
    incoming: service.Incoming,
    refmsgid: str,
    *,
    retry: bool = False,
) -> dict[str, Any] | Attachment:
    """The row's checks and handler inside the message's unit of work (`service.answering`)."""
    attachment: Attachment | None = None
    async with service.answering(runtime, incoming, retry=retry) as unit:
        if unit.answer is None:  # else: the msgid's stored answer
            caller = unit.caller
            if caller.kind not in transaction.kinds:
                allowed = "、".join(INSTITUTION_TYPE_NAMES[k] for k in transaction.kinds)
                raise UnknownTransaction(f"{envelope.infno} {transaction.name} 仅限{allowed}调用")
            if transaction.needs_sign_in(always=runtime.settings.fsi_sign_in_always):
                caller = await service.signed_in(
                    unit.session, caller, envelope.sign_no, runtime.clock
                )
            reply = await transaction.handle(Call(runtime, unit.session, caller, envelope, table))
            attachment = reply.attachment
            unit.answer = answer(
                infcode=SUCCESS,
                refmsgid=refmsgid,
                received=incoming.received,
                responded=runtime.clock.now(),
                output=reply.output,
                warn_msg="；".join(reply.warnings) or None,
            )
    assert unit.answer is not None
    if unit.replayed:
        attachment = None  # the kept answer names the file; it is read again
        if transaction.resend is not None and unit.answer.get("infcode") == SUCCESS:
            async with runtime.sessions() as session:  # reads only: nothing to commit
                call = Call(runtime, session, unit.caller, envelope, table)
                attachment = await transaction.resend(call, unit.answer.get("output") or {})
    return attachment if attachment is not None else unit.answer


def content_disposition(filename: str) -> str:
    """`attachment` with the name: plain for an ASCII name, else RFC 6266's `filename*` in UTF-8
    after an ASCII stand-in (file names never hold quotes or backslashes: files.domain)."""
    if filename.isascii():
        return f'attachment; filename="{filename}"'
    stand_in = "".join(c if c.isascii() else "_" for c in filename)
    return f"attachment; filename=\"{stand_in}\"; filename*=UTF-8''{quote(filename, safe='')}"


def respond(answered: dict[str, Any] | Attachment) -> Response:
    if isinstance(answered, Attachment):
        return Response(
            answered.content,
            media_type="application/octet-stream",
            headers={"Content-Disposition": content_disposition(answered.filename)},
        )
    return JSONResponse(answered)


@router.post("/rsfComIfsService/callService")
async def call_service(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    return respond(await dispatch(runtime, await request.body(), request.headers, None))


@router.post("/{infno}")
async def call_by_code(infno: str, request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    return respond(await dispatch(runtime, await request.body(), request.headers, infno))


_PREFIX = "/fsi/api/"
_CALL_SERVICE = "rsfComIfsService/callService"


class DirectRoute:
    """`POST /fsi/api/rsfComIfsService/callService` and `POST /fsi/api/{infno}` as plain ASGI
    (mounted by the app factory inside the security headers, which every answer still gets);
    every other request goes on to `app`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            path: str = scope["path"]
            root: str = scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root) :]
            if path.startswith(_PREFIX):
                rest = path[len(_PREFIX) :]
                if rest == _CALL_SERVICE:
                    await self._serve(scope, receive, send, None)
                    return
                if rest and "/" not in rest:
                    await self._serve(scope, receive, send, rest)
                    return
        await self.app(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, infno: str | None) -> None:
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the institution went away before its message arrived: nothing to do
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        runtime: Runtime = scope["app"].state.runtime
        answered = await dispatch(runtime, b"".join(chunks), Headers(scope=scope), infno)
        await respond(answered)(scope, receive, send)
