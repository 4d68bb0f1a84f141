"""POST /fsi/api/rsfComIfsService/callService and POST /fsi/api/{infno}.

Order of checks: the envelope parses, the gateway signature holds (then the nonce is
remembered), the institution may send this transaction and has signed in today when its row
(`fsi.transactions`) or the region (`YIBAO_FSI_SIGN_IN_ALWAYS`) says it must; then the handler
runs once per msgid. Every failure answers infcode -1 with HTTP 200 and writes nothing
but its spent nonce.

A message uses one pooled connection and one transaction: the institution comes from the
per-process reference cache, and the nonce, the handler's writes and the stored answer commit
together (the nonce of a failed message is written on its own after the rollback).
"""

from __future__ import annotations

import secrets
from datetime import datetime
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
from yibao.fsi.errors import INTERNAL_ERROR, err_msg_for, infcode_for
from yibao.fsi.transactions import TRANSACTIONS, Transaction
from yibao.kernel.errors import DomainError
from yibao.runtime import Runtime
from yibao.settlement import service
from yibao.settlement.domain import INSTITUTION_TYPE_NAMES
from yibao.settlement.service.messages import Answer

log = structlog.get_logger("yibao.fsi")

router = APIRouter(prefix="/fsi/api", tags=["定点医药机构接口"])


async def dispatch(
    runtime: Runtime, body: bytes, headers: Headers, path_infno: str | None
) -> dict[str, Any]:
    clock = runtime.clock
    received = clock.now()
    refmsgid = f"{stamp(received)}{secrets.randbelow(10**8):08d}"
    try:
        envelope = read_envelope(body)
        if path_infno is not None and path_infno != envelope.infno:
            raise InvalidMessage(
                f"请求路径的交易编号 {path_infno} 与报文 infno {envelope.infno} 不一致"
            )
        transaction = TRANSACTIONS.get(envelope.infno)
        if transaction is None:
            raise UnknownTransaction(f"不支持的交易编号 infno={envelope.infno}")
        try:
            return await _process(runtime, envelope, transaction, headers, received, refmsgid)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            # The server dropped a pooled connection (no pre-ping: db/engine.py). SQLAlchemy has
            # discarded the pool; the message runs once more on a fresh connection. Had the
            # commit landed, the msgid's stored answer or the spent nonce says so.
            log.warning("fsi_retry_after_disconnect", infno=envelope.infno)
            return await _process(
                runtime, envelope, transaction, headers, received, refmsgid, retry=True
            )
    except DomainError as exc:
        return answer(
            infcode=infcode_for(exc),
            refmsgid=refmsgid,
            received=received,
            responded=clock.now(),
            err_msg=err_msg_for(exc),
        )
    except Exception:
        log.exception("fsi_internal_error", path_infno=path_infno)
        return answer(
            infcode=-1,
            refmsgid=refmsgid,
            received=received,
            responded=clock.now(),
            err_msg=INTERNAL_ERROR,
        )


async def _process(
    runtime: Runtime,
    envelope: Envelope,
    transaction: Transaction,
    headers: Headers,
    received: datetime,
    refmsgid: str,
    *,
    retry: bool = False,
) -> dict[str, Any]:
    """One connection and one transaction: gateway check, nonce, the handler, the answer.

    `retry`: the same message again after its connection was lost. Its nonce is spent only if
    that first attempt committed, and then with its answer: the answer is returned."""
    clock = runtime.clock
    nonce_written = False
    async with runtime.sessions() as session:
        try:
            caller = await service.verify_gateway(
                session,
                runtime.cipher,
                clock,
                paasid=headers.get("x-tif-paasid"),
                timestamp=headers.get("x-tif-timestamp"),
                nonce=headers.get("x-tif-nonce"),
                signed=headers.get("x-tif-signature"),
            )
            paasid, nonce = headers["x-tif-paasid"], headers["x-tif-nonce"]
            try:
                await service.remember_nonce(runtime.ephemeral, paasid, nonce, session=session)
            except service.GatewayRefused:
                first = None
                if retry:  # committed, but its answer was lost with the connection?
                    first = await service.stored_answer(
                        session,
                        msgid=envelope.msgid,
                        infno=envelope.infno,
                        fixmedins_code=envelope.fixmedins_code,
                        digest=envelope.digest,
                    )
                if first is None:
                    raise
                return first
            nonce_written = True
            if caller.fixmedins_code != envelope.fixmedins_code:
                raise service.GatewayRefused(
                    f"报文 fixmedins_code {envelope.fixmedins_code} 与 x-tif-paasid 对应的机构不符"
                )
            if caller.kind not in transaction.kinds:
                allowed = "、".join(INSTITUTION_TYPE_NAMES[k] for k in transaction.kinds)
                raise UnknownTransaction(f"{envelope.infno} {transaction.name} 仅限{allowed}调用")
            if transaction.needs_sign_in(always=runtime.settings.fsi_sign_in_always):
                caller = await service.signed_in(session, caller, envelope.sign_no, clock)

            async def work(session: Any) -> Answer:
                reply = await transaction.handle(
                    Call(runtime, session, caller, envelope, TRANSACTIONS)
                )
                return answer(
                    infcode=0,
                    refmsgid=refmsgid,
                    received=received,
                    responded=clock.now(),
                    output=reply.output,
                    warn_msg="；".join(reply.warnings) or None,
                )

            result, replayed = await service.answer_once(
                session,
                msgid=envelope.msgid,
                infno=envelope.infno,
                fixmedins_code=envelope.fixmedins_code,
                digest=envelope.digest,
                now=received,
                work=work,
            )
        except BaseException as exc:
            lost = isinstance(exc, DBAPIError) and exc.connection_invalidated
            if nonce_written and not lost:  # a lost connection is retried with the same nonce
                await session.rollback()
                await service.keep_nonce(runtime.ephemeral, paasid, nonce)
            raise
    if replayed:
        await service.keep_nonce(runtime.ephemeral, paasid, nonce)
    return result


@router.post("/rsfComIfsService/callService")
async def call_service(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    return JSONResponse(await dispatch(runtime, await request.body(), request.headers, None))


@router.post("/{infno}")
async def call_by_code(infno: str, request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    return JSONResponse(await dispatch(runtime, await request.body(), request.headers, infno))
