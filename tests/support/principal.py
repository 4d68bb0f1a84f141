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
