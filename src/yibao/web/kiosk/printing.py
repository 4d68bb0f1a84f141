"""结算单 at the kiosk: choose the period, print on the kiosk's printer (or have it on the phone
when the printer cannot), and watch the job until it is out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from yibao.kernel.clock import china_today
from yibao.kernel.errors import DomainError
from yibao.kiosks.service import printing, sessions
from yibao.runtime import Runtime
from yibao.statements.domain import DayRange, day_range, parse_day
from yibao.web.deps import RuntimeDep, SessionDep
from yibao.web.ids import RowId
from yibao.web.kiosk.access import kiosk_key, refusal, render, see_other, session_token
from yibao.web.sessions import verify_csrf

router = APIRouter(prefix="/kiosk", include_in_schema=False, dependencies=[Depends(verify_csrf)])

Day = Annotated[str, Form(max_length=20)]
ENDED_CODES = {"kiosk_session_ended", "unknown_kiosk", "kiosk_revoked"}


def _days(runtime: Runtime, since: str, until: str) -> DayRange:
    today = china_today(runtime.clock)
    return day_range(parse_day(since, "开始日期"), parse_day(until, "结束日期"), today)


def _form(request: Request, runtime: Runtime, status: int = 200, **context: object) -> Response:
    today = china_today(runtime.clock)
    defaults = {"since": f"{today.year}-01-01", "until": today.isoformat()}
    return render(
        request,
        "print.html",
        status,
        **{"error": None, "offer_phone": False, "sent": False, **defaults, **context},
    )


@router.get("/print", response_class=HTMLResponse)
async def print_page(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    try:
        await sessions.touch(session, runtime.clock, kiosk_key(request), session_token(request))
    except DomainError as exc:
        return refusal(request, exc, ended=True)
    return _form(request, runtime)


@router.post("/print", response_class=HTMLResponse)
async def print_statement(
    request: Request, session: SessionDep, runtime: RuntimeDep, since: Day = "", until: Day = ""
) -> Response:
    try:
        days = _days(runtime, since, until)
        job = await printing.request_print(
            session, runtime.clock, kiosk_key(request), session_token(request), days
        )
    except DomainError as exc:
        await session.rollback()
        if exc.code in ENDED_CODES:
            return refusal(request, exc, ended=True)
        phone = exc.code == "printer_unavailable"
        return _form(
            request,
            runtime,
            409 if phone else 422,
            error=exc.message,
            offer_phone=phone,
            since=since,
            until=until,
        )
    return see_other(f"/kiosk/print/{job}")


@router.post("/print/phone", response_class=HTMLResponse)
async def to_phone(
    request: Request, session: SessionDep, runtime: RuntimeDep, since: Day = "", until: Day = ""
) -> Response:
    try:
        days = _days(runtime, since, until)
        await printing.send_to_phone(
            session, runtime.clock, kiosk_key(request), session_token(request), days
        )
    except DomainError as exc:
        await session.rollback()
        if exc.code in ENDED_CODES:
            return refusal(request, exc, ended=True)
        return _form(request, runtime, 422, error=exc.message, since=since, until=until)
    return _form(request, runtime, sent=True, since=since, until=until)


@router.get("/print/{job_id}", response_class=HTMLResponse)
async def job_page(
    request: Request, job_id: RowId, session: SessionDep, runtime: RuntimeDep
) -> Response:
    try:
        job = await printing.job_state(
            session, runtime.clock, kiosk_key(request), session_token(request), job_id
        )
    except DomainError as exc:
        return refusal(request, exc, ended=exc.code in ENDED_CODES)
    return render(request, "print_job.html", job=job)


@router.get("/print/{job_id}/state")
async def job_state(
    request: Request, job_id: RowId, session: SessionDep, runtime: RuntimeDep
) -> JSONResponse:
    try:
        job = await printing.job_state(
            session, runtime.clock, kiosk_key(request), session_token(request), job_id
        )
    except DomainError as exc:
        return JSONResponse({"error": exc.message}, status_code=403)
    return JSONResponse({"state": job.state, "message": job.message})
