"""/staff/kiosks: the self-service kiosks (自助查询机) — register (key shown once), revoke, and
watch them: last contact (flagged when a kiosk stops calling in), printer, today's sessions."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from yibao.kernel.errors import DomainError
from yibao.kiosks.domain import STALE_AFTER
from yibao.kiosks.service import devices
from yibao.web.auth import StaffDep, StaffPrincipal
from yibao.web.deps import RuntimeDep, SessionDep
from yibao.web.errors import status_for
from yibao.web.sessions import verify_csrf
from yibao.web.staff.page import Text, actor, page, see_other

router = APIRouter(prefix="/staff", include_in_schema=False, dependencies=[Depends(verify_csrf)])


async def _list(
    request: Request,
    staff: StaffPrincipal,
    session: SessionDep,
    runtime: RuntimeDep,
    status: int = 200,
    **context: object,
) -> HTMLResponse:
    kiosks = await devices.kiosk_statuses(session, runtime.clock)
    return page(
        request,
        "staff_kiosks.html",
        staff,
        status=status,
        kiosks=kiosks,
        stale_minutes=int(STALE_AFTER.total_seconds() // 60),
        **{"error": None, "made": None, **context},
    )


@router.get("/kiosks", response_class=HTMLResponse)
async def kiosks_page(
    request: Request, staff: StaffDep, session: SessionDep, runtime: RuntimeDep
) -> HTMLResponse:
    return await _list(request, staff, session, runtime)


@router.post("/kiosks", response_class=HTMLResponse)
async def register(
    request: Request,
    staff: StaffDep,
    session: SessionDep,
    runtime: RuntimeDep,
    kiosk_id: Text = "",
    place: Text = "",
) -> HTMLResponse:
    try:
        made = await devices.register_kiosk(
            session, runtime.clock, actor(staff), kiosk_id=kiosk_id, place=place
        )
    except DomainError as exc:
        await session.rollback()
        return await _list(request, staff, session, runtime, status_for(exc), error=exc.message)
    return await _list(request, staff, session, runtime, made=made)


@router.post("/kiosks/{kiosk_id}/revoke")
async def revoke(
    request: Request, kiosk_id: str, staff: StaffDep, session: SessionDep, runtime: RuntimeDep
) -> Response:
    try:
        await devices.revoke_kiosk(session, runtime.clock, actor(staff), kiosk_id)
    except DomainError as exc:
        await session.rollback()
        return await _list(request, staff, session, runtime, status_for(exc), error=exc.message)
    return see_other("/staff/kiosks")
