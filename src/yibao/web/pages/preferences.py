"""Language and 长辈版 switches (cookies, every page), and the PWA shell: manifest, worker, offline."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from yibao.web.i18n import DEFAULT_LOCALE, ELDER_COOKIE, LANG_COOKIE, LOCALES, safe_next

router = APIRouter(include_in_schema=False)

STATIC_DIR = Path(__file__).parent.parent / "static"
YEAR = 365 * 24 * 3600


@router.get("/settings/lang")
async def switch_language(to: str = DEFAULT_LOCALE, next: str = "/") -> RedirectResponse:
    response = RedirectResponse(safe_next(next), status_code=303)
    locale = to if to in LOCALES else DEFAULT_LOCALE
    response.set_cookie(LANG_COOKIE, locale, max_age=YEAR, samesite="lax", httponly=True)
    return response


@router.get("/settings/elder")
async def switch_elder(on: int = 1, next: str = "/") -> RedirectResponse:
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        ELDER_COOKIE, "1" if on else "0", max_age=YEAR, samesite="lax", httponly=True
    )
    return response


@router.get("/manifest.webmanifest")
async def manifest() -> FileResponse:
    return FileResponse(STATIC_DIR / "manifest.webmanifest", media_type="application/manifest+json")


@cache
def _service_worker_source() -> str:
    # The worker serves the stylesheet cache-first: naming its cache after the stylesheet makes a
    # new release's worker differ, so browsers install it and drop the old cached stylesheet.
    digest = hashlib.sha256((STATIC_DIR / "app.css").read_bytes()).hexdigest()[:16]
    return (STATIC_DIR / "sw.js").read_text(encoding="utf-8").replace("__SHELL_VERSION__", digest)


@router.get("/sw.js")
async def service_worker() -> Response:
    # Served from the root so its scope covers every page.
    return Response(
        _service_worker_source(),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )


@router.get("/offline", response_class=HTMLResponse)
async def offline(request: Request) -> HTMLResponse:
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, "offline.html", {}
    )
    return response
