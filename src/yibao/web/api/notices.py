"""消息 for apps under /api/v1: the signed-in person's own notices and marking them read.

Another person's notice id is simply not found (404).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from yibao.notifications import service as notices
from yibao.notifications.domain import MAX_NOTICES_PAGE_SIZE, NOTICES_PAGE_SIZE
from yibao.web.auth import PersonDep
from yibao.web.deps import RuntimeDep, SessionDep
from yibao.web.ids import RowId, RowIdQuery

router = APIRouter(prefix="/api/v1", tags=["消息 notices"])


class NoticeOut(BaseModel):
    id: int
    subject: str
    body: str
    created_at: datetime
    read_at: datetime | None = Field(description="first opened; null while unread")


class NoticesOut(BaseModel):
    unread: int = Field(description="how many of the person's notices are unread")
    notices: list[NoticeOut] = Field(description="newest first")
    next_before: int | None = Field(description="pass as `before` for the next (older) page")


class MarkedOut(BaseModel):
    marked: int


def _out(notice: notices.Notice) -> NoticeOut:
    return NoticeOut(
        id=notice.id,
        subject=notice.subject,
        body=notice.body,
        created_at=notice.created_at,
        read_at=notice.read_at,
    )


@router.get("/notices", summary="消息: my notices, newest first")
async def list_notices(
    person: PersonDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_NOTICES_PAGE_SIZE)] = NOTICES_PAGE_SIZE,
    before: RowIdQuery = None,
) -> NoticesOut:
    box = await notices.inbox(session, person.person_id, limit=limit, before_id=before)
    return NoticesOut(
        unread=box.unread, notices=[_out(n) for n in box.notices], next_before=box.next_before
    )


@router.post("/notices/{notice_id}/read", summary="Mark one of my notices read")
async def mark_read(
    notice_id: RowId, person: PersonDep, session: SessionDep, runtime: RuntimeDep
) -> NoticeOut:
    return _out(await notices.open_notice(session, runtime.clock, person.person_id, notice_id))


@router.post("/notices/read", summary="Mark all my notices read")
async def mark_all_read(person: PersonDep, session: SessionDep, runtime: RuntimeDep) -> MarkedOut:
    return MarkedOut(marked=await notices.mark_all_read(session, runtime.clock, person.person_id))
