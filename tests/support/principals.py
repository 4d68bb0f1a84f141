"""Sign a test request in without the identity feature: a header names the principal."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from urllib.parse import quote, unquote

from fastapi import FastAPI, Request, Response

from yibao.web.auth import PersonPrincipal, StaffPrincipal


def install_test_principals(app: FastAPI) -> None:
    """`X-Test-Person: <id>[;stepped]` or `X-Test-Staff: <id>;<name>;<roles,…>;<office>`
    (percent-encoded: header values are ASCII; see `staff_header`)."""

    @app.middleware("http")
    async def _principal(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        person = request.headers.get("x-test-person")
        staff = request.headers.get("x-test-staff")
        if person:
            person_id, _, flag = person.partition(";")
            now = app.state.runtime.clock.now()
            request.state.principal = PersonPrincipal(
                person_id=int(person_id),
                account_id=int(person_id),
                session_id="test",
                step_up_until=now + timedelta(minutes=5) if flag == "stepped" else None,
                via="bearer",
            )
        elif staff:
            staff_id, name, roles, office = unquote(staff).split(";")
            request.state.principal = StaffPrincipal(
                staff_id=int(staff_id),
                username=f"staff{staff_id}",
                name=name,
                roles=frozenset(roles.split(",")),
                office=office,
                session_id="test",
            )
        return await call_next(request)


def staff_header(staff_id: int, name: str, roles: str, office: str) -> dict[str, str]:
    return {"x-test-staff": quote(f"{staff_id};{name};{roles};{office}")}
