"""What the kiosk's card-reader bridge calls (`yibao.web.kiosk.bridge`), with the kiosk's key as a
bearer token: the card in the reader, the printer's state, and the print jobs waiting."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from yibao.kernel.errors import DomainError
from yibao.kiosks.service import devices, printing
from yibao.statements import service as statements
from yibao.statements.pdf import render_statement
from yibao.web.deps import RuntimeDep, SessionDep
from yibao.web.errors import status_for
from yibao.web.ids import RowId
from yibao.web.kiosk.access import device_key

router = APIRouter(prefix="/kiosk/device", include_in_schema=False)


class CardReport(BaseModel):
    present: bool
    reader: bool = True
    card_no: str | None = Field(default=None, max_length=20)
    ssn: str | None = Field(default=None, max_length=18)
    problem: str | None = Field(default=None, max_length=200)


class Heartbeat(BaseModel):
    printer: dict[str, Any] = Field(default_factory=dict)


class JobReport(BaseModel):
    printed: bool
    message: str = Field(default="", max_length=200)


def _refused(exc: DomainError) -> JSONResponse:
    return JSONResponse({"error": {"code": exc.code, "message": exc.message}}, status_for(exc))


@router.post("/card")
async def card(
    report: CardReport, request: Request, session: SessionDep, runtime: RuntimeDep
) -> Response:
    try:
        state = await devices.report_card(
            session,
            runtime.cipher,
            runtime.clock,
            device_key(request),
            present=report.present,
            reader=report.reader,
            card_no=report.card_no,
            ssn=report.ssn,
            problem=report.problem,
        )
    except DomainError as exc:
        return _refused(exc)
    return JSONResponse({"card": state.value})


@router.post("/heartbeat")
async def heartbeat(
    beat: Heartbeat, request: Request, session: SessionDep, runtime: RuntimeDep
) -> Response:
    try:
        jobs = await devices.heartbeat(session, runtime.clock, device_key(request), beat.printer)
    except DomainError as exc:
        return _refused(exc)
    return JSONResponse({"jobs": jobs})


@router.get("/jobs/{job_id}.pdf")
async def job_pdf(
    job_id: RowId, request: Request, session: SessionDep, runtime: RuntimeDep
) -> Response:
    try:
        person_id, days = await printing.take_job(
            session, runtime.clock, device_key(request), job_id
        )
        statement = await statements.statement(session, runtime.clock, person_id, days)
    except DomainError as exc:
        return _refused(exc)
    return Response(render_statement(statement), media_type="application/pdf")


@router.post("/jobs/{job_id}")
async def job_report(
    job_id: RowId, report: JobReport, request: Request, session: SessionDep, runtime: RuntimeDep
) -> Response:
    try:
        await printing.report_job(
            session,
            runtime.clock,
            device_key(request),
            job_id,
            printed=report.printed,
            message=report.message,
        )
    except DomainError as exc:
        return _refused(exc)
    return JSONResponse({"ok": True})
