"""The workbench's person desk: find a person with a reason, the masked read-only view, audited
unmask, unlocking the online account, printing the statement and resetting the card password."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from yibao.audit import service as audit
from yibao.claims.service import workbench
from yibao.identity import service as identity
from yibao.kernel.clock import china_today
from yibao.kernel.errors import DomainError, PermissionDenied
from yibao.runtime import Runtime
from yibao.statements import service as statements
from yibao.statements.domain import day_range, parse_day
from yibao.statements.pdf import render_statement
from yibao.web.auth import StaffDep, StaffPrincipal
from yibao.web.deps import RuntimeDep, SessionDep
from yibao.web.errors import status_for
from yibao.web.ids import RowId
from yibao.web.sessions import verify_csrf
from yibao.web.staff.page import Text, actor, page

router = APIRouter(prefix="/staff", include_in_schema=False, dependencies=[Depends(verify_csrf)])


def person_page(
    request: Request, runtime: Runtime, staff: StaffPrincipal, status: int = 200, **context: Any
) -> HTMLResponse:
    """The person's page, with the statement form set to the last 12 months."""
    days = day_range(None, None, china_today(runtime.clock))
    return page(
        request,
        "staff_person.html",
        staff,
        status=status,
        statement_since=days.since.isoformat(),
        statement_until=days.until.isoformat(),
        **context,
    )


# --- find a person ------------------------------------------------------------------------------


@router.get("/persons", response_class=HTMLResponse)
async def find_page(request: Request, staff: StaffDep) -> HTMLResponse:
    return page(request, "staff_find.html", staff, results=None, form={})


@router.post("/persons", response_class=HTMLResponse)
async def find(
    request: Request,
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    reason: Text = "",
    by: Text = "",
    value: Text = "",
) -> HTMLResponse:
    persons = await audit.look_up_person(
        session, runtime.cipher, runtime.clock, actor(staff), by=by, value=value, reason=reason
    )
    form = {"reason": reason, "by": by}
    return page(request, "staff_find.html", staff, results=persons, form=form)


@router.get("/persons/{person_id}", response_class=HTMLResponse)
async def view_person(
    request: Request,
    person_id: RowId,
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    reason: str = "",
) -> HTMLResponse:
    overview = await workbench.person_overview(
        session, runtime.clock, actor(staff), person_id, reason
    )
    return person_page(request, runtime, staff, o=overview, reason=reason, revealed={})


@router.post("/persons/{person_id}/unmask", response_class=HTMLResponse)
async def unmask(
    request: Request,
    person_id: RowId,
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    field: Text,
    reason: Text,
) -> HTMLResponse:
    value = await audit.unmask(
        session,
        runtime.cipher,
        runtime.clock,
        actor(staff),
        person_id=person_id,
        field=field,
        reason=reason,
    )
    overview = await workbench.person_overview(
        session, runtime.clock, actor(staff), person_id, reason
    )
    return person_page(request, runtime, staff, o=overview, reason=reason, revealed={field: value})


@router.post("/persons/{person_id}/unlock", response_class=HTMLResponse)
async def unlock(
    request: Request,
    person_id: RowId,
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    reason: Text,
) -> HTMLResponse:
    was_locked = await workbench.unlock_online_account(
        session, runtime.clock, actor(staff), person_id, reason
    )
    overview = await workbench.person_overview(
        session, runtime.clock, actor(staff), person_id, reason
    )
    notice = "网上账户已解锁" if was_locked else "网上账户未被锁定，已重置错误次数"
    return person_page(
        request, runtime, staff, o=overview, reason=reason, revealed={}, notice=notice
    )


@router.get("/persons/{person_id}/statement.pdf")
async def statement_pdf(
    person_id: RowId,
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    reason: str = "",
    since: str | None = None,
    until: str | None = None,
) -> Response:
    """The person's 《医疗保险个人账户结算单》, the same PDF they download, recorded as a read."""
    days = day_range(
        parse_day(since, "开始日期"), parse_day(until, "结束日期"), china_today(runtime.clock)
    )
    printed = await statements.statement_for_staff(
        session, runtime.clock, actor(staff), person_id, reason, days
    )
    name = quote(f"医疗保险个人账户结算单_{days.since}_{days.until}.pdf")
    return Response(
        render_statement(printed),
        media_type="application/pdf",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


@router.post("/persons/{person_id}/card-password", response_class=HTMLResponse)
async def reset_card_password(
    request: Request,
    person_id: RowId,
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    reason: Text = "",
    id_number: Text = "",
    card_password: Text = "",
    card_password_again: Text = "",
    id_checked: Text = "",
) -> HTMLResponse:
    try:
        await identity.reset_card_password_at_counter(
            runtime,
            session,
            actor(staff),
            person_id=person_id,
            reason=reason,
            id_document_checked=id_checked == "yes",
            id_number=id_number,
            card_password=card_password,
            card_password_again=card_password_again,
        )
    except PermissionDenied:
        raise
    except DomainError as exc:
        # Shown beside the form on the person's page; nothing was written.
        await session.rollback()
        overview = await workbench.person_overview(
            session, runtime.clock, actor(staff), person_id, reason
        )
        return person_page(
            request,
            runtime,
            staff,
            status=status_for(exc),
            o=overview,
            reason=reason,
            revealed={},
            card_error=exc.message,
        )
    overview = await workbench.person_overview(
        session, runtime.clock, actor(staff), person_id, reason
    )
    return person_page(
        request,
        runtime,
        staff,
        o=overview,
        reason=reason,
        revealed={},
        notice="医保卡密码已重置，已通知参保人本人",
    )
