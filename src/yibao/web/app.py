"""The FastAPI application factory: every channel's routers over one Runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import structlog
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from yibao import __version__
from yibao.config import Settings, get_settings
from yibao.fsi import router as fsi_router
from yibao.hotline import webhook as hotline_webhook
from yibao.kiosks.service import sessions as kiosk_sessions
from yibao.logs import configure_logging
from yibao.runtime import Runtime, build_runtime, settle_the_heap
from yibao.web import account_routes, notice_routes
from yibao.web.api import claims as claims_api
from yibao.web.errors import install_error_handlers
from yibao.web.family import install_family
from yibao.web.headers import SecurityHeadersMiddleware
from yibao.web.identity import install_identity
from yibao.web.kiosk import router as kiosk_router
from yibao.web.open import api as open_api
from yibao.web.open import consent, grants, tokens
from yibao.web.pages import claims as claims_pages
from yibao.web.pages import filings as filing_pages
from yibao.web.pages import home, region, voucher
from yibao.web.peer import routes as peer_routes
from yibao.web.staff import filings as staff_filings
from yibao.web.staff import hotline as staff_hotline
from yibao.web.staff import workbench as staff_workbench
from yibao.web.templating import make_templates

STATIC_DIR = Path(__file__).parent / "static"


async def end_kiosk_sessions_left_open(runtime: Runtime) -> None:
    """A kiosk session open when the server stopped is not used after it starts (docs/kiosk.md)."""
    async with runtime.sessions() as session:
        ended = await kiosk_sessions.end_sessions_left_open(session, runtime.clock)
    if ended:
        structlog.get_logger("yibao.web").info("kiosk_sessions_ended_at_start", sessions=ended)


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    settings = settings or (runtime.settings if runtime else get_settings())
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = runtime is None
        app.state.runtime = runtime or build_runtime(settings)
        if owned and settings.environment == "production":
            settle_the_heap()
        await end_kiosk_sessions_left_open(app.state.runtime)
        try:
            yield
        finally:
            if owned:
                await app.state.runtime.close()

    app = FastAPI(
        title="yibao 医保个人账户",
        version=__version__,
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/api/v1/openapi.json",
    )
    if runtime is not None:
        app.state.runtime = runtime
    app.state.settings = settings
    app.state.templates = make_templates()
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # Each channel adds its routers here, one line each. Routes are matched in this order, one by
    # one, so the busiest paths come first: the institution interface, then the account reads.
    app.include_router(fsi_router.router)
    app.include_router(peer_routes.router)
    app.include_router(account_routes.router)
    app.include_router(home.router)
    app.include_router(region.router)
    app.include_router(claims_api.router)
    app.include_router(claims_pages.router)
    app.include_router(staff_workbench.router)
    app.include_router(staff_hotline.router)
    install_identity(app)
    install_family(app)
    app.include_router(voucher.router)
    app.include_router(filing_pages.router)
    app.include_router(staff_filings.router)
    app.include_router(notice_routes.router)
    app.include_router(hotline_webhook.router)
    app.include_router(kiosk_router)
    # The open API: partners' reads (documented at /open/v1/openapi.json, not in /api/v1's).
    app.include_router(open_api.router, include_in_schema=False)
    for open_router in (open_api.docs, tokens.router, consent.router, grants.router):
        app.include_router(open_router)
    # The institution interface's two routes as plain ASGI, inside the security headers and ahead
    # of everything else (fsi/router.py, DirectRoute).
    app.add_middleware(fsi_router.DirectRoute)
    app.add_middleware(SecurityHeadersMiddleware)
    return app
