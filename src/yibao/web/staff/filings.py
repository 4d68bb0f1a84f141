"""The counter's 异地就医备案: a clerk sees a person's 备案 (recorded on their 查询记录), files one
for a person who came in, changes or cancels one. The same use cases as the phone pages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from yibao.filings import service as filings
from yibao.filings.domain import Filing
from yibao.kernel.clock import china_today
from yibao.kernel.errors import DomainError, PermissionDenied
from yibao.runtime import Runtime
from yibao.web.auth import StaffDep, StaffPrincipal
from yibao.web.deps import RuntimeDep, SessionDep
from yibao.web.errors import status_for
from yibao.web.ids import RowId
from yibao.web.pages.filings import NAMES, STATE_BADGES, FilingForm, application_from
from yibao.web.pages.page import see_other
from yibao.web.sessions import verify_csrf
from yibao.web.staff.page import Text, actor, page

router = APIRouter(prefix="/staff", include_in_schema=False, dependencies=[Depends(verify_csrf)])

OptionalFile = Annotated[UploadFile | None, File()]


async def _desk(
    request: Request,
    runtime: Runtime,
    session: Any,
    staff: StaffPrincipal,
    person_id: int,
    reason: str,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    view = await filings.filings_for_staff(session, runtime.clock, actor(staff), person_id, reason)
    today = china_today(runtime.clock)
    form = context.pop("form", {}) or {"begins": today.isoformat()}
    return page(
        request,
        "staff_filings.html",
        staff,
        status=status,
        **NAMES,
        badges=STATE_BADGES,
        person_id=person_id,
        view=view,
        rows=[(f, f.shown_state(today).value) for f in view.filings],
        reason=reason,
        form=form,
        **context,
    )


@router.get("/persons/{person_id}/filings", response_class=HTMLResponse)
async def filings_desk(
    request: Request,
    person_id: RowId,
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    reason: str = "",
) -> HTMLResponse:
    return await _desk(request, runtime, session, staff, person_id, reason)


@router.post("/persons/{person_id}/filings", response_class=HTMLResponse)
async def file_at_counter(
    request: Request,
    person_id: RowId,
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    form: FilingForm,
    reason: Text = "",
    replaces: Text = "",
    proof: OptionalFile = None,
) -> Response:
    store = filings.document_store(runtime.settings.var_dir)
    try:
        who = filings.staff_actor(actor(staff))
        application = await application_from(form, proof, filings.MAX_DOCUMENT_BYTES)
        made: Filing
        if replaces.strip().isdigit():
            made = await filings.change(
                session,
                runtime.clock,
                who,
                person_id,
                int(replaces),
                application,
                store=store,
            )
        else:
            made = await filings.file(
                session, runtime.clock, who, person_id, application, store=store
            )
    except PermissionDenied:
        raise
    except DomainError as exc:
        await session.rollback()
        return await _desk(
            request,
            runtime,
            session,
            staff,
            person_id,
            reason,
            status_for(exc),
            form=form,
            error=exc.message,
        )
    return see_other(f"/staff/persons/{person_id}/filings?reason={reason}&done={made.id}")


@router.post("/persons/{person_id}/filings/{filing_id}/cancel", response_class=HTMLResponse)
async def cancel_at_counter(
    request: Request,
    person_id: RowId,
    filing_id: RowId,
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    reason: Text = "",
    end_reason: Text = "",
) -> Response:
    try:
        who = filings.staff_actor(actor(staff))
        await filings.cancel(session, runtime.clock, who, person_id, filing_id, end_reason)
    except PermissionDenied:
        raise
    except DomainError as exc:
        await session.rollback()
        return await _desk(
            request,
            runtime,
            session,
            staff,
            person_id,
            reason,
            status_for(exc),
            error=exc.message,
        )
    return see_other(f"/staff/persons/{person_id}/filings?reason={reason}")
