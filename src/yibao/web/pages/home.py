"""The home page of the mobile app."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def home(request: Request) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(request, "home.html", {})  # type: ignore[no-any-return]
