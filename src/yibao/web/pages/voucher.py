"""医保电子凭证: the person's dynamic QR code, and the API that refreshes it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from yibao.runtime import Runtime
from yibao.settlement import service
from yibao.web.auth import SteppedUpPersonDep
from yibao.web.deps import RuntimeDep, SessionDep

router = APIRouter()


async def _fresh(runtime: Runtime, session: Any, person_id: int) -> dict[str, Any]:
    settings = runtime.settings
    token, expires = await service.issue_ec_token(
        session, person_id, runtime.clock, timedelta(seconds=settings.ec_token_ttl_seconds)
    )
    return {
        "ec_token": token,
        "qr_svg": segno.make(token, error="m").svg_data_uri(scale=6, border=2),
        "expires_at": expires.isoformat(),
        "refresh_seconds": settings.ec_qr_refresh_seconds,
    }


@router.get("/voucher", response_class=HTMLResponse, include_in_schema=False)
async def voucher_page(
    request: Request, person: SteppedUpPersonDep, session: SessionDep, runtime: RuntimeDep
) -> HTMLResponse:
    code = await _fresh(runtime, session, person.person_id)
    name = await service.holder_name(session, person.person_id)
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, "voucher.html", {"code": code, "holder": name}
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/api/v1/ec-token", tags=["医保电子凭证"])
async def ec_token(
    person: SteppedUpPersonDep, session: SessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """A fresh ecToken for the QR code: bound to this person, short-lived, good for one payment."""
    return await _fresh(runtime, session, person.person_id)
