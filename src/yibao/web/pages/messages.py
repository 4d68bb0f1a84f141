"""消息: the person's in-app notices, newest first; opening one marks it read.

Signed in is enough (no step-up): a notice must reach the person quickly so that they can spot a
payment they did not make, and the same text already went out by SMS.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from yibao.notifications import service as notices
from yibao.notifications.domain import NOTICES_PAGE_SIZE
from yibao.web.auth import PersonDep
from yibao.web.deps import RuntimeDep, SessionDep
from yibao.web.ids import RowId, RowIdQuery
from yibao.web.pages.page import render, see_other
from yibao.web.sessions import verify_csrf

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])


@router.get("/messages", response_class=HTMLResponse)
async def inbox(
    request: Request,
    person: PersonDep,
    session: SessionDep,
    before: RowIdQuery = None,
) -> HTMLResponse:
    box = await notices.inbox(session, person.person_id, limit=NOTICES_PAGE_SIZE, before_id=before)
    return render(request, "messages.html", box=box, paged=before is not None)


@router.get("/messages/settings", response_class=HTMLResponse)
async def settings(request: Request, person: PersonDep, session: SessionDep) -> HTMLResponse:
    """消息设置: whether each credit to the account also comes by SMS (off unless asked for)."""
    wanted = await notices.credit_sms_wanted(session, person.person_id)
    return render(request, "message_settings.html", credit_sms=wanted, saved=False)


@router.post("/messages/settings", response_class=HTMLResponse)
async def save_settings(
    request: Request,
    person: PersonDep,
    session: SessionDep,
    runtime: RuntimeDep,
    credit_sms: Annotated[str | None, Form()] = None,
) -> HTMLResponse:
    on = credit_sms == "1"
    await notices.set_credit_sms(session, runtime.clock, person.person_id, on)
    return render(request, "message_settings.html", credit_sms=on, saved=True)


@router.get("/messages/{notice_id}", response_class=HTMLResponse)
async def open_notice(
    request: Request, notice_id: RowId, person: PersonDep, session: SessionDep, runtime: RuntimeDep
) -> HTMLResponse:
    notice = await notices.open_notice(session, runtime.clock, person.person_id, notice_id)
    return render(request, "message.html", notice=notice)


@router.post("/messages/read")
async def mark_all_read(
    person: PersonDep, session: SessionDep, runtime: RuntimeDep
) -> RedirectResponse:
    await notices.mark_all_read(session, runtime.clock, person.person_id)
    return see_other("/messages")
