"""Each interface message acts once: its msgid is unique in the database, and its answer is kept.

A retried msgid gets the first answer back. The msgid is claimed by storing the answer at the end
of the message's transaction (its primary key refuses a second copy), so the usual message costs
no look-up first: a copy whose msgid is already stored does the work, fails to store it, rolls
back everything it did and reads the first answer instead. Two copies arriving together both do
the work, but only one can store its msgid (the other waits on the key until the first commits).
A message that fails stores nothing, so its retry is processed afresh.

A retry is the same msgid with the same business content: the stored answer keeps the digest of
the content it answered (computed at the edge from `infno` and `input`, not the send time or the
signature), and a msgid repeated with other content is refused (`DuplicateMessage`) instead of
being told the first message's answer. The digest is compared only when the msgid is already
stored, on the read that fetches the stored answer: the usual message pays nothing for it. A row
stored before digests were kept (NULL) counts as matching.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.db.direct import flush_pending
from yibao.kernel.errors import Conflict
from yibao.settlement import repository
from yibao.settlement.tables import InterfaceMessage

Answer = dict[str, Any]


class DuplicateMessage(Conflict):
    code = "duplicate_message"


class ConcurrentUpdate(Conflict):
    code = "concurrent_update"


def _stored(message: InterfaceMessage, infno: str, fixmedins_code: str, digest: str) -> Answer:
    if message.infno != infno or message.fixmedins_code != fixmedins_code:
        raise DuplicateMessage(
            f"msgid {message.msgid} 已用于 {message.fixmedins_code} 的 {message.infno} 交易，请勿重复使用"
        )
    if message.digest is not None and message.digest != digest:
        raise DuplicateMessage(
            f"msgid {message.msgid} 已用于另一笔内容不同的 {message.infno} 报文，"
            "本报文未处理；重发请保持原报文内容，新交易请使用新的 msgid"
        )
    answer: Answer = json.loads(message.answer)
    return answer


async def answer_once(
    session: AsyncSession,
    *,
    msgid: str,
    infno: str,
    fixmedins_code: str,
    digest: str,
    now: datetime,
    work: Callable[[AsyncSession], Awaitable[Answer]],
) -> tuple[Answer, bool]:
    """Run `work` once per msgid and commit it with its answer; (answer, replayed).

    `digest`: of the message's business content; a msgid stored with another digest is refused.
    """
    try:
        answer = await work(session)
        await flush_pending(session)
        await repository.store_answer(
            session,
            msgid=msgid,
            infno=infno,
            fixmedins_code=fixmedins_code,
            answer=json.dumps(answer, ensure_ascii=False, separators=(",", ":")),
            digest=digest,
            now=now,
        )
        await session.commit()
    except BaseException as exc:
        await session.rollback()
        # A twin that got there first leaves its answer; this copy returns that instead.
        stored = await repository.answered_message(session, msgid)
        replay = None if stored is None else _stored(stored, infno, fixmedins_code, digest)
        await session.rollback()
        if replay is not None:
            return replay, True
        if isinstance(exc, IntegrityError):
            raise ConcurrentUpdate("数据被并发修改，请稍后重试") from exc
        raise
    return answer, False


async def stored_answer(
    session: AsyncSession, *, msgid: str, infno: str, fixmedins_code: str, digest: str
) -> Answer | None:
    """The answer kept for `msgid`, if one was committed (a copy from another institution, for
    another transaction or with other content is refused as in `answer_once`)."""
    stored = await repository.answered_message(session, msgid)
    return None if stored is None else _stored(stored, infno, fixmedins_code, digest)
