"""Stand-in for identity's sign-in in tests: who the caller is, without passwords or SMS codes.

A request names its person with the `x-test-person` header or the `test_person` cookie
(`<person_id>` stepped up, or `<person_id>:plain` signed in without a fresh verification). It
overrides the `current_person` / `stepped_up_person` dependencies, so it holds whatever middleware
the app runs, and raises the same errors they do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

from fastapi import FastAPI, Request

from yibao.identity.domain import StepUpRequired, Unauthenticated
from yibao.web.auth import PersonPrincipal, current_person, stepped_up_person
from yibao.web.caller import Caller, bearer_caller


def _named(request: Request) -> tuple[int, bool] | None:
    raw = request.headers.get("x-test-person") or request.cookies.get("test_person")
    if not raw:
        return None
    person_id, _, mode = raw.partition(":")
    return int(person_id), mode != "plain"


def _principal(request: Request) -> PersonPrincipal:
    named = _named(request)
    if named is None:
        raise Unauthenticated("请先登录")
    person_id, stepped_up = named
    now = request.app.state.runtime.clock.now()
    return PersonPrincipal(
        person_id=person_id,
        account_id=person_id,
        session_id="test",
        step_up_until=now + timedelta(minutes=10) if stepped_up else None,
        via="bearer" if request.url.path.startswith("/api/") else "cookie",
    )


def _stepped_up(request: Request) -> PersonPrincipal:
    principal = _principal(request)
    if principal.step_up_until is None:
        raise StepUpRequired("查看账户明细前，请再次验证身份")
    return principal


async def _caller(request: Request) -> AsyncIterator[Caller]:
    """The API's reads that check their caller in their own statement (web/caller.py) take the
    full check, which here is the stand-in's."""
    runtime = request.app.state.runtime

    async def full_check() -> PersonPrincipal:
        return _stepped_up(request)

    async with runtime.sessions() as session:
        yield Caller(session, runtime, None, full_check)


def install_test_principal(app: FastAPI) -> None:
    app.dependency_overrides[current_person] = _principal
    app.dependency_overrides[stepped_up_person] = _stepped_up
    app.dependency_overrides[bearer_caller] = _caller
