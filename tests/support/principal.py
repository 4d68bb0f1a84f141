"""Stand-in for identity's middleware in tests: sets `request.state.principal` like it will.

A request names its person with the `x-test-person` header or the `test_person` cookie
(`<person_id>` stepped up, or `<person_id>:plain` signed in without a fresh verification).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request

from yibao.web.auth import PersonPrincipal


def install_test_principal(app: FastAPI) -> None:
    @app.middleware("http")
    async def _principal(request: Request, call_next: Any) -> Any:
        raw = request.headers.get("x-test-person") or request.cookies.get("test_person")
        if raw:
            person_id, _, mode = raw.partition(":")
            now = request.app.state.runtime.clock.now()
            request.state.principal = PersonPrincipal(
                person_id=int(person_id),
                account_id=int(person_id),
                session_id="test",
                step_up_until=None if mode == "plain" else now + timedelta(minutes=10),
                via="bearer" if request.url.path.startswith("/api/") else "cookie",
            )
        return await call_next(request)


def install_test_sign_in(app: FastAPI, person_id: int) -> None:
    """Stand-in /login and /verify pages for browser journeys until identity's pages land.

    Each shows one button; pressing it sets the principal cookie and returns to `next`.
    """
    from fastapi.responses import HTMLResponse, RedirectResponse

    from yibao.web.i18n import safe_next

    def _page(title: str, action: str, nxt: str) -> HTMLResponse:
        return HTMLResponse(
            f'<!doctype html><meta name="viewport" content="width=device-width">'
            f"<h1>{title}</h1><form method=post action='{action}?next={nxt}'>"
            f"<input id=code name=code placeholder='验证码'>"
            f"<button id=submit type=submit>{title}</button></form>"
        )

    @app.get("/login")
    async def _login(next: str = "/") -> HTMLResponse:
        return _page("登录", "/login", next)

    @app.post("/login")
    async def _login_done(next: str = "/") -> RedirectResponse:
        response = RedirectResponse(safe_next(next), status_code=303)
        response.set_cookie("test_person", f"{person_id}:plain")
        return response

    @app.get("/verify")
    async def _verify(next: str = "/") -> HTMLResponse:
        return _page("短信验证", "/verify", next)

    @app.post("/verify")
    async def _verify_done(next: str = "/") -> RedirectResponse:
        response = RedirectResponse(safe_next(next), status_code=303)
        response.set_cookie("test_person", str(person_id))
        return response
