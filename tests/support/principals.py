"""Sign a test request in without the sign-in pages: a header names the principal.

The auth dependencies are overridden (not the middleware), so this works whatever middleware
the identity feature installs: `X-Test-Person: <id>[;stepped]`, or `X-Test-Staff` with
`staff_header(...)` (percent-encoded: header values are ASCII).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import quote, unquote

import httpx
from fastapi import FastAPI, Request

from yibao.identity.domain import StepUpRequired, Unauthenticated
from yibao.web.auth import (
    PersonPrincipal,
    StaffPrincipal,
    current_person,
    current_staff,
    stepped_up_person,
)
from yibao.web.caller import Caller, bearer_caller
from yibao.web.sessions import CSRF_COOKIE, CSRF_HEADER


def install_test_principals(app: FastAPI) -> None:
    def person(request: Request) -> PersonPrincipal:
        header = request.headers.get("x-test-person")
        if not header:
            raise Unauthenticated("请先登录")
        person_id, _, flag = header.partition(";")
        now = request.app.state.runtime.clock.now()
        return PersonPrincipal(
            person_id=int(person_id),
            account_id=int(person_id),
            session_id="test",
            step_up_until=now + timedelta(minutes=5) if flag == "stepped" else None,
            via="bearer",
        )

    def stepped(request: Request) -> PersonPrincipal:
        principal = person(request)
        if principal.step_up_until is None:
            raise StepUpRequired("查看账户明细前，请再次验证身份")
        return principal

    def staff(request: Request) -> StaffPrincipal:
        header = request.headers.get("x-test-staff")
        if not header:
            raise Unauthenticated("请先登录经办系统")
        staff_id, name, roles, office = unquote(header).split(";")
        return StaffPrincipal(
            staff_id=int(staff_id),
            username=f"staff{staff_id}",
            name=name,
            roles=frozenset(roles.split(",")),
            office=office,
            session_id="test",
        )

    async def caller(request: Request) -> AsyncIterator[Caller]:
        # The API's reads that check their caller in their own statement (web/caller.py)
        # take the full check, which here is `stepped`.
        runtime = request.app.state.runtime

        async def full_check() -> PersonPrincipal:
            return stepped(request)

        async with runtime.sessions() as session:
            yield Caller(session, runtime, None, full_check)

    app.dependency_overrides[current_person] = person
    app.dependency_overrides[stepped_up_person] = stepped
    app.dependency_overrides[bearer_caller] = caller
    app.dependency_overrides[current_staff] = staff


def staff_header(staff_id: int, name: str, roles: str, office: str) -> dict[str, str]:
    return {"x-test-staff": quote(f"{staff_id};{name};{roles};{office}")}


TEST_CSRF = "test-csrf-token-0123456789abcdef"


def with_csrf(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Pages check the CSRF double submit: the cookie, echoed in a header on every post."""
    client.cookies.set(CSRF_COOKIE, TEST_CSRF)
    client.headers[CSRF_HEADER] = TEST_CSRF
    return client
