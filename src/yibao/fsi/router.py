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
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.datastructures import Headers

from yibao.fsi.call import Call
from yibao.fsi.envelope import (
    Envelope,
    InvalidMessage,
    UnknownTransaction,
    answer,
    read_envelope,
    stamp,
)
from yibao.fsi.errors import FAILURE, INTERNAL_ERROR, SUCCESS
from yibao.fsi.transactions import TRANSACTIONS, Transaction
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
) -> dict[str, Any]:
    """The answer to one message; `table` is the transaction table it is routed by."""
    clock = runtime.clock
    received = clock.now()
    refmsgid = f"{stamp(received)}{secrets.randbelow(10**8):08d}"
    try:
        envelope = read_envelope(body)
        if path_infno is not None and path_infno != envelope.infno:
            raise InvalidMessage(
                f"请求路径的交易编号 {path_infno} 与报文 infno {envelope.infno} 不一致"
            )
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


async def _answer(
    runtime: Runtime,
    envelope: Envelope,
    transaction: Transaction,
    table: Mapping[str, Transaction],
    incoming: service.Incoming,
    refmsgid: str,
    *,
    retry: bool = False,
) -> dict[str, Any]:
    """The row's checks and handler inside the message's unit of work (`service.answering`)."""
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
            unit.answer = answer(
                infcode=SUCCESS,
                refmsgid=refmsgid,
                received=incoming.received,
                responded=runtime.clock.now(),
                output=reply.output,
                warn_msg="；".join(reply.warnings) or None,
            )
    assert unit.answer is not None
    return unit.answer


@router.post("/rsfComIfsService/callService")
async def call_service(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    return JSONResponse(await dispatch(runtime, await request.body(), request.headers, None))


@router.post("/{infno}")
async def call_by_code(infno: str, request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    return JSONResponse(await dispatch(runtime, await request.body(), request.headers, infno))
