"""划账 at the workbench (/staff/crediting): one staff member proposes the month's run with its
file, an administrator who is someone else approves it, and only then does money move (the
worker carries the approved run on). Progress, totals and the refused lines (CSV) to download.
The year end (/staff/year-end: interest where a region pays it) goes the same way."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any, BinaryIO

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from yibao.crediting import service as crediting
from yibao.crediting.domain import STATE_NAMES, InvalidRun, RunState
from yibao.crediting.year_end import YEAR_END_STATE_NAMES, InvalidYearEnd, format_rate
from yibao.kernel.clock import china_today
from yibao.kernel.money import format_yuan
from yibao.web.auth import StaffDep
from yibao.web.deps import RuntimeDep, SessionDep
from yibao.web.ids import RowId
from yibao.web.sessions import verify_csrf
from yibao.web.staff.page import Text, actor, page, see_other

router = APIRouter(prefix="/staff", include_in_schema=False, dependencies=[Depends(verify_csrf)])

REPORT_HEADER = ["文件", "行号", "身份证号", "费款所属期", "原因代码", "原因"]
_CHUNK = 1 << 20


def _names() -> dict[str, Any]:
    return {
        "state_names": {s.value: n for s, n in STATE_NAMES.items()},
        "year_end_names": {s.value: n for s, n in YEAR_END_STATE_NAMES.items()},
        "yuan": format_yuan,
        "rate": format_rate,
    }


@router.get("/crediting", response_class=HTMLResponse)
async def runs_page(
    request: Request, staff: StaffDep, session: SessionDep, runtime: RuntimeDep
) -> HTMLResponse:
    runs = await crediting.recent_runs(session)
    year_ends = await crediting.recent_year_ends(session)
    rates = await crediting.interest_rates(session)
    last_year = china_today(runtime.clock).year - 1
    return page(
        request, "staff_crediting.html", staff, runs=runs, year_ends=year_ends, rates=rates,
        last_year=last_year, **_names(),
    )  # fmt: skip


# -- the year end (年度结转): proposed by one, approved by another, carried on by the worker ----


@router.post("/year-end")
async def propose_year_end(
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    year: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    if not year.isdigit():
        raise InvalidYearEnd("结转年度应为四位数字，如 2026")
    run = await crediting.propose_year_end(session, runtime.clock, actor(staff), int(year))
    return see_other(f"/staff/year-end/{run.id}")


@router.get("/year-end/{run_id}", response_class=HTMLResponse)
async def year_end_page(
    request: Request, run_id: RowId, staff: StaffDep, session: SessionDep
) -> HTMLResponse:
    run = await crediting.find_year_end(session, run_id)
    totals = await crediting.year_end_totals(session, run)
    return page(
        request, "staff_crediting_year_end.html", staff, run=run, totals=totals,
        rates=json.loads(run.rates), **_names(),
    )  # fmt: skip


@router.post("/year-end/{run_id}/approve")
async def approve_year_end(
    run_id: RowId, staff: StaffDep, runtime: RuntimeDep, session: SessionDep
) -> Response:
    await crediting.approve_year_end(session, runtime.clock, actor(staff), run_id)
    return see_other(f"/staff/year-end/{run_id}")


@router.post("/year-end/{run_id}/reject")
async def reject_year_end(
    run_id: RowId, staff: StaffDep, runtime: RuntimeDep, session: SessionDep, note: Text = ""
) -> Response:
    await crediting.reject_year_end(session, runtime.clock, actor(staff), run_id, note)
    return see_other(f"/staff/year-end/{run_id}")


def _open(path: Path) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("wb")


async def _save(upload: UploadFile, folder: Path) -> Path:
    """The uploaded file to disk a chunk at a time (a province's month is large), in a folder of
    its own under the name it was sent with (reduced to safe characters: the report shows it)."""
    name = re.sub(r"[^\w.\-]", "_", Path(upload.filename or "month.csv").name)[-80:]
    if not name.lower().endswith(".csv"):
        name += ".csv"
    path = folder / secrets.token_hex(12) / name
    handle = await asyncio.to_thread(_open, path)
    try:
        while chunk := await upload.read(_CHUNK):
            await asyncio.to_thread(handle.write, chunk)
    finally:
        await asyncio.to_thread(handle.close)
    return path


@router.post("/crediting")
async def propose(
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    file: Annotated[UploadFile, File()],
    month: Annotated[str, Form(max_length=7)] = "",
    region: Annotated[str, Form(max_length=6)] = "",
) -> Response:
    if not file.filename:
        raise InvalidRun("请选择缴费文件（CSV）")
    saved = await _save(file, runtime.settings.var_dir / "crediting")
    run = await crediting.propose_run(
        session, runtime.clock, actor(staff), month=month, source=saved, region=region or None
    )
    return see_other(f"/staff/crediting/{run.id}")


@router.get("/crediting/{run_id}", response_class=HTMLResponse)
async def run_page(
    request: Request, run_id: RowId, staff: StaffDep, session: SessionDep
) -> HTMLResponse:
    run = await crediting.find_run(session, run_id)
    totals = await crediting.run_totals(session, run) if run.state == RunState.DONE else []
    return page(request, "staff_crediting_run.html", staff, run=run, totals=totals, **_names())


@router.post("/crediting/{run_id}/approve")
async def approve(
    run_id: RowId, staff: StaffDep, runtime: RuntimeDep, session: SessionDep
) -> Response:
    await crediting.approve_proposed_run(session, runtime.clock, actor(staff), run_id)
    return see_other(f"/staff/crediting/{run_id}")


@router.post("/crediting/{run_id}/reject")
async def reject(
    run_id: RowId, staff: StaffDep, runtime: RuntimeDep, session: SessionDep, note: Text = ""
) -> Response:
    await crediting.reject_proposed_run(session, runtime.clock, actor(staff), run_id, note)
    return see_other(f"/staff/crediting/{run_id}")


@router.get("/crediting/{run_id}/report.csv")
async def report(
    run_id: RowId, staff: StaffDep, runtime: RuntimeDep, session: SessionDep
) -> StreamingResponse:
    run = await crediting.report_for_staff(session, runtime.clock, actor(staff), run_id)

    async def rows() -> AsyncIterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")  # spreadsheet programs read UTF-8 by its BOM
        writer.writerow(REPORT_HEADER)
        async for line in crediting.refused_report(session, run):
            writer.writerow(
                [line.file, line.line_no, line.id_number_masked, line.month, line.code, line.reason]
            )
            if buffer.tell() > _CHUNK:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode()

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="crediting-{run.id}-refused.csv"'},
    )
