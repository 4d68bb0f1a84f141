"""Staff sign-in (/staff/login: password + TOTP), the portal's front page and sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from yibao.calls import service as calls
from yibao.identity import service as identity
from yibao.identity.domain import STAFF_ROLE_NAMES, StaffRole
from yibao.kernel.errors import DomainError
from yibao.web.auth import StaffDep, StaffPrincipal
from yibao.web.deps import ClientDep, RuntimeDep, SessionDep
from yibao.web.pages.page import render, render_error, see_other
from yibao.web.sessions import (
    clear_session_cookie,
    device_token,
    safe_next,
    set_session_cookie,
    verify_csrf,
)

router = APIRouter(prefix="/staff", dependencies=[Depends(verify_csrf)], include_in_schema=False)

Text = Annotated[str, Form()]


@router.get("/login", response_class=HTMLResponse)
async def staff_login_page(request: Request, next: str = "/staff") -> HTMLResponse:
    return render(request, "staff_login.html", next=safe_next(next, "/staff"))


@router.post("/login", response_class=HTMLResponse)
async def staff_login(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    client: ClientDep,
    username: Text,
    password: Text,
    totp: Text,
    next: Annotated[str, Form()] = "/staff",
) -> Response:
    target = safe_next(next, "/staff")
    if not target.startswith("/staff"):
        target = "/staff"
    try:
        issued = await identity.staff_sign_in(
            runtime,
            session,
            username=username,
            password=password,
            totp_code=totp,
            client=client,
            ua=request.headers.get("user-agent", ""),
            device=device_token(request, staff=True),
        )
    except DomainError as exc:
        return render_error(request, "staff_login.html", exc, next=target, username=username)
    response = see_other(target)
    set_session_cookie(request, response, issued.token, staff=True, device=issued.device)
    return response


@router.get("", response_class=HTMLResponse)
async def staff_home(
    request: Request, staff: StaffDep, runtime: RuntimeDep, session: SessionDep
) -> HTMLResponse:
    figures = await calls.figures_for_day(session, runtime.clock)  # the hotline's calls per hour
    return render(
        request, "staff_home.html", staff=staff, role_names=_role_names(staff), figures=figures
    )


@router.post("/logout")
async def staff_logout(request: Request, runtime: RuntimeDep, session: SessionDep) -> Response:
    principal = request.state.principal
    if isinstance(principal, StaffPrincipal):
        await identity.sign_out(runtime, session, principal.session_id, via="staff")
    response = see_other("/staff/login")
    clear_session_cookie(response, staff=True)
    return response


def _role_names(staff: StaffPrincipal) -> list[str]:
    return [STAFF_ROLE_NAMES[StaffRole(r)] for r in sorted(staff.roles) if r in set(StaffRole)]
