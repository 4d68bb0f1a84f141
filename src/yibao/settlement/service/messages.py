"""An interface message is one unit of work: `answering` opens its transaction, and commits it
with the message's answer or rolls it back. It is the only place a message commits.

    async with service.answering(runtime, incoming) as unit:
        if unit.answer is None:            # else: this msgid was answered already
            result = await service.some_use_case_in(unit.session, ..., unit.caller, ...)
            unit.answer = the answer built from `result`
    return unit.answer

Inside: the gateway headers are checked (`verify_gateway`) and the nonce written in the same
transaction; the body's writes, the nonce and the stored answer (`fsi_messages`) commit together.
A body that raises, whatever the error, is rolled back and its nonce kept spent on its own.

Each message acts once: its msgid is unique in the database, and its answer is kept. A retried
msgid gets the first answer back. The msgid is claimed by storing the answer at the end of the
transaction (its primary key refuses a second copy), so the usual message costs no look-up first:
a copy whose msgid is already stored does the work, fails to store it, rolls back everything it
did and reads the first answer instead. Two copies arriving together both do the work, but only
one can store its msgid (the other waits on the key until the first commits). A message that
fails stores nothing, so its retry is processed afresh.

A retry is the same msgid with the same business content: the stored answer keeps the digest of
the content it answered (computed at the edge from `infno` and `input`, not the send time or the
signature), and a msgid repeated with other content is refused (`DuplicateMessage`) instead of
being told the first message's answer. The digest is compared only when the msgid is already
stored, on the read that fetches the stored answer: the usual message pays nothing for it. A row
stored before digests were kept (NULL) counts as matching.

A lost connection (`connection_invalidated`) is not handled here: the caller runs the message
again with `retry=True`. That retry finds its nonce spent only if the first attempt committed,
and then answers with that attempt's stored answer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.db.direct import flush_pending
from yibao.kernel.errors import Conflict
from yibao.runtime import Runtime
from yibao.settlement import repository
from yibao.settlement.domain import Caller
from yibao.settlement.service.institutions import (
    GatewayRefused,
    keep_nonce,
    remember_nonce,
    verify_gateway,
)
from yibao.settlement.tables import InterfaceMessage

Answer = dict[str, Any]


class DuplicateMessage(Conflict):
    code = "duplicate_message"


class ConcurrentUpdate(Conflict):
    code = "concurrent_update"


@dataclass(frozen=True, slots=True)
class Incoming:
    """A message as the gateway and the envelope name it."""

    msgid: str
    infno: str
    fixmedins_code: str
    digest: str  # of the business content (`infno` and `input`)
    received: datetime
    paasid: str | None
    timestamp: str | None
    nonce: str | None
    signature: str | None


@dataclass
class Unit:
    """The message's transaction: its session, who sent it, and its answer. `answer` is set
    when entered if the msgid was answered already (`replayed`); otherwise the body sets it."""

    session: AsyncSession
    caller: Caller
    answer: Answer | None = None
    replayed: bool = False


def _stored(message: InterfaceMessage, incoming: Incoming) -> Answer:
    if message.infno != incoming.infno or message.fixmedins_code != incoming.fixmedins_code:
        raise DuplicateMessage(
            f"msgid {message.msgid} 已用于 {message.fixmedins_code} 的 {message.infno} 交易，请勿重复使用"
        )
    if message.digest is not None and message.digest != incoming.digest:
        raise DuplicateMessage(
            f"msgid {message.msgid} 已用于另一笔内容不同的 {message.infno} 报文，"
            "本报文未处理；重发请保持原报文内容，新交易请使用新的 msgid"
        )
    answer: Answer = json.loads(message.answer)
    return answer


async def stored_answer(session: AsyncSession, incoming: Incoming) -> Answer | None:
    """The answer kept for the msgid, if one was committed (a copy from another institution, for
    another transaction or with other content is refused)."""
    stored = await repository.answered_message(session, incoming.msgid)
    return None if stored is None else _stored(stored, incoming)


async def commit_answer(session: AsyncSession, incoming: Incoming, answer: Answer) -> None:
    """Store the answer under its msgid (the claim) and commit the message's transaction."""
    await flush_pending(session)
    await repository.store_answer(
        session,
        msgid=incoming.msgid,
        infno=incoming.infno,
        fixmedins_code=incoming.fixmedins_code,
        answer=json.dumps(answer, ensure_ascii=False, separators=(",", ":")),
        digest=incoming.digest,
        now=incoming.received,
    )
    await session.commit()


def _lost(exc: BaseException) -> bool:
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


@asynccontextmanager
async def answering(
    runtime: Runtime, incoming: Incoming, *, retry: bool = False
) -> AsyncIterator[Unit]:
    """One pooled connection and one transaction for the message; see the module's text.

    `retry`: the same message again after its connection was lost (its nonce is spent only if
    that first attempt committed, and then the unit comes with that attempt's answer)."""
    async with runtime.sessions() as session:
        nonce_written = False
        unit: Unit | None = None
        try:
            caller = await verify_gateway(
                session,
                runtime.cipher,
                runtime.clock,
                paasid=incoming.paasid,
                timestamp=incoming.timestamp,
                nonce=incoming.nonce,
                signed=incoming.signature,
            )
            assert incoming.paasid and incoming.nonce  # verify_gateway refuses them missing
            try:
                await remember_nonce(
                    runtime.ephemeral, incoming.paasid, incoming.nonce, session=session
                )
            except GatewayRefused:
                first = await stored_answer(session, incoming) if retry else None
                if first is None:
                    raise
                yield Unit(session, caller, first, replayed=True)
                return
            nonce_written = True
            if caller.fixmedins_code != incoming.fixmedins_code:
                raise GatewayRefused(
                    f"报文 fixmedins_code {incoming.fixmedins_code} 与 x-tif-paasid 对应的机构不符"
                )
            unit = Unit(session, caller)
            yield unit
            if unit.answer is None:
                raise RuntimeError("message answered without an answer")
            await commit_answer(session, incoming, unit.answer)
        except BaseException as exc:
            if not nonce_written or _lost(exc):  # nothing written yet, or retried by the caller
                raise
            assert incoming.paasid and incoming.nonce
            await session.rollback()
            if unit is None:  # refused before the body: no stored answer is looked for
                await keep_nonce(runtime.ephemeral, incoming.paasid, incoming.nonce)
                raise
            try:
                # A twin that got there first left its answer; this copy returns that instead.
                replay = await stored_answer(session, incoming)
                await session.rollback()
            except BaseException as refused:  # DuplicateMessage: its nonce is spent too
                if not _lost(refused):
                    await keep_nonce(runtime.ephemeral, incoming.paasid, incoming.nonce)
                raise
            # The nonce of a message that failed, or was a copy, stays spent.
            await keep_nonce(runtime.ephemeral, incoming.paasid, incoming.nonce)
            if replay is None:
                if isinstance(exc, IntegrityError):
                    raise ConcurrentUpdate("数据被并发修改，请稍后重试") from exc
                raise
            unit.answer, unit.replayed = replay, True
