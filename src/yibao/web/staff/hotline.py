"""The hotline's agent desk (/staff/hotline): the queue of callers who pressed 0, taking a call
(who calls, whether identified, what they already heard), identifying a caller by questions, the
caller's account read as a hotline call (audited, on the person's 查询记录), and ending the call."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from yibao.audit import service as audit
from yibao.calls import service as calls
from yibao.calls.domain import END_REASON_NAMES, IDENTIFIED_BY_NAMES, SPEAKER_NAMES
from yibao.kernel.errors import DomainError
from yibao.statements import service as statements
from yibao.web.auth import StaffDep, StaffPrincipal
from yibao.web.deps import RuntimeDep, SessionDep
from yibao.web.errors import status_for
from yibao.web.ids import RowId
from yibao.web.sessions import verify_csrf
from yibao.web.staff.page import Text, actor, page, see_other

router = APIRouter(
    prefix="/staff/hotline", include_in_schema=False, dependencies=[Depends(verify_csrf)]
)

REASON = "hotline_call"
NAMES: dict[str, Any] = {
    "identified_by_names": IDENTIFIED_BY_NAMES,
    "speaker_names": SPEAKER_NAMES,
    "end_reason_names": END_REASON_NAMES,
}


@router.get("", response_class=HTMLResponse)
async def desk(
    request: Request, staff: StaffDep, runtime: RuntimeDep, session: SessionDep
) -> HTMLResponse:
    return page(
        request,
        "staff_hotline.html",
        staff,
        waiting=await calls.waiting_calls(session),
        mine=await calls.my_calls(session, actor(staff)),
        figures=await calls.figures_for_day(session, runtime.clock),
        **NAMES,
    )


@router.post("/{call_id}/take")
async def take(
    call_id: RowId, staff: StaffDep, runtime: RuntimeDep, session: SessionDep
) -> Response:
    await calls.take_call(session, runtime.clock, actor(staff), call_id)
    return see_other(f"/staff/hotline/{call_id}")


async def _call_page(
    request: Request,
    staff: StaffPrincipal,
    runtime: RuntimeDep,
    session: SessionDep,
    call_id: int,
    status: int = 200,
    **context: object,
) -> HTMLResponse:
    view = await calls.call_for_agent(session, actor(staff), call_id)
    return page(
        request, "staff_hotline_call.html", staff, status=status, v=view, **NAMES, **context
    )


@router.get("/{call_id}", response_class=HTMLResponse)
async def call_page(
    request: Request, call_id: RowId, staff: StaffDep, runtime: RuntimeDep, session: SessionDep
) -> HTMLResponse:
    return await _call_page(request, staff, runtime, session, call_id)


@router.post("/{call_id}/identify", response_class=HTMLResponse)
async def identify(
    request: Request,
    call_id: RowId,
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    id_number: Text = "",
) -> Response:
    try:
        await calls.identify_by_agent(
            session, runtime.cipher, runtime.clock, actor(staff), call_id, id_number
        )
    except DomainError as exc:
        await session.rollback()
        return await _call_page(
            request, staff, runtime, session, call_id, status=status_for(exc), error=exc.message
        )
    return see_other(f"/staff/hotline/{call_id}")


@router.post("/{call_id}/account", response_class=HTMLResponse)
async def account(
    request: Request, call_id: RowId, staff: StaffDep, runtime: RuntimeDep, session: SessionDep
) -> HTMLResponse:
    """The caller's account, read for the call: recorded before it is shown."""
    view = await calls.call_for_agent(session, actor(staff), call_id)
    if view.call.person_id is None:
        return await _call_page(
            request, staff, runtime, session, call_id, status=409, error="请先核实来电人身份"
        )
    person_id = view.call.person_id
    await audit.record_staff_read(
        session,
        runtime.clock,
        actor(staff),
        person_id=person_id,
        action="account.view",
        reason=REASON,
        detail={"call": view.call.call_ref},
    )
    overview = await statements.account_overview(session, runtime.clock, person_id)
    return await _call_page(request, staff, runtime, session, call_id, overview=overview)


@router.post("/{call_id}/end")
async def end(
    call_id: RowId, staff: StaffDep, runtime: RuntimeDep, session: SessionDep
) -> Response:
    await calls.end_by_agent(session, runtime.clock, actor(staff), call_id)
    return see_other("/staff/hotline")
