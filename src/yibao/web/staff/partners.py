"""合作应用 at the workbench: a clerk or administrator proposes a partner app, a different
administrator approves it (maker-checker) and is shown its client secret once; administrators
suspend a partner (its tokens stop at once) or rotate its secret."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from yibao.kernel.errors import DomainError
from yibao.partners.domain import DEFAULT_RATE_LIMIT, PARTNER_STATUS_NAMES, SCOPES
from yibao.partners.service import registry
from yibao.web.auth import StaffDep, StaffPrincipal
from yibao.web.deps import RuntimeDep, SessionDep
from yibao.web.errors import status_for
from yibao.web.ids import RowId
from yibao.web.sessions import verify_csrf
from yibao.web.staff.page import Text, actor, page, see_other

router = APIRouter(prefix="/staff", include_in_schema=False, dependencies=[Depends(verify_csrf)])

Scopes = Annotated[list[str], Form(max_length=len(SCOPES))]


async def _page(
    request: Request,
    staff: StaffPrincipal,
    session: SessionDep,
    *,
    status: int = 200,
    error: str | None = None,
    credentials: registry.Credentials | None = None,
    form: dict[str, object] | None = None,
) -> HTMLResponse:
    return page(
        request,
        "staff_partners.html",
        staff,
        status=status,
        partners=await registry.list_partners(session),
        scopes=SCOPES,
        status_names=PARTNER_STATUS_NAMES,
        redirect_uris_of=registry.redirect_uris_of,
        default_rate_limit=DEFAULT_RATE_LIMIT,
        error=error,
        credentials=credentials,
        form=form or {},
    )


@router.get("/partners", response_class=HTMLResponse)
async def partners_page(request: Request, staff: StaffDep, session: SessionDep) -> HTMLResponse:
    return await _page(request, staff, session)


@router.post("/partners", response_class=HTMLResponse)
async def propose(
    request: Request,
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    name: Text = "",
    company: Text = "",
    redirect_uris: Annotated[str, Form(max_length=5000)] = "",
    scope: Scopes = [],  # noqa: B006 - FastAPI reads the default, never mutates it
    rate_limit: Text = "",
    public_keys: Annotated[str, Form(max_length=20000)] = "",
) -> Response:
    form: dict[str, object] = {
        "name": name,
        "company": company,
        "redirect_uris": redirect_uris,
        "scope": scope,
    }
    try:
        limit = (
            int(rate_limit) if rate_limit.strip().isascii() and rate_limit.strip().isdigit() else 0
        )
        await registry.propose_partner(
            session,
            runtime.clock,
            actor(staff),
            registry.Registration(
                name=name,
                company=company,
                redirect_uris=redirect_uris.split(),
                scopes=scope,
                rate_limit_per_minute=limit,
                public_keys=public_keys or None,
            ),
        )
    except DomainError as exc:
        await session.rollback()
        return await _page(
            request, staff, session, status=status_for(exc), error=exc.message, form=form
        )
    return see_other("/staff/partners")


@router.post("/partners/{partner_id}/approve", response_class=HTMLResponse)
async def approve(
    request: Request, partner_id: RowId, staff: StaffDep, runtime: RuntimeDep, session: SessionDep
) -> Response:
    # The secret is shown on this answer only (never in a URL, never again).
    credentials = await registry.approve_partner(session, runtime.clock, actor(staff), partner_id)
    return await _page(request, staff, session, credentials=credentials)


@router.post("/partners/{partner_id}/reject")
async def reject(
    partner_id: RowId, staff: StaffDep, runtime: RuntimeDep, session: SessionDep
) -> Response:
    await registry.reject_partner(session, runtime.clock, actor(staff), partner_id)
    return see_other("/staff/partners")


@router.post("/partners/suspend")
async def suspend(
    staff: StaffDep, runtime: RuntimeDep, session: SessionDep, client_id: Text = ""
) -> Response:
    await registry.suspend_partner(session, runtime.clock, client_id, staff=actor(staff))
    return see_other("/staff/partners")


@router.post("/partners/rotate", response_class=HTMLResponse)
async def rotate(
    request: Request,
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    client_id: Text = "",
) -> Response:
    credentials = await registry.rotate_secret(
        session, runtime.clock, client_id, staff=actor(staff)
    )
    return await _page(request, staff, session, credentials=credentials)
