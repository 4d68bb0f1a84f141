"""The bearer caller of the hottest API reads, checked in the statement that reads their data.

`/api/v1/account` and the first pages of `/api/v1/consumption` are what a phone asks most. On
those paths (`sessions.CALLER_CHECKED`) the identity middleware opens the request's database
session but does not check the token itself: the route's one statement starts with identity's
`CALLER_CTE` (the session, live, a person's, by bearer, used within the idle timeout and stepped
up) and reads the page keyed on the person it finds, so a request makes one round trip where it
made two (issue #16). When that statement finds no such session, nothing it read is used: the
route takes identity's full check (`Caller.principal`: expiry written, `Unauthenticated` or
`StepUpRequired` raised, exactly as on every other route) and, if that lets the caller through
after all, reads the page the ordinary way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.identity import service as identity
from yibao.identity.domain import Unauthenticated
from yibao.identity.repository import CallerCheck, CheckedCaller
from yibao.runtime import Runtime
from yibao.web.auth import PersonPrincipal, stepped_up_person
from yibao.web.deps import REQUEST_SESSION
from yibao.web.sessions import resolve_principal


@dataclass(frozen=True, slots=True)
class Caller:
    session: AsyncSession  # the request's, opened by the middleware
    runtime: Runtime
    check: CallerCheck | None  # None: no token a session can have (the full check answers)
    full_check: Callable[[], Awaitable[PersonPrincipal]]

    async def confirm(self, checked: CheckedCaller) -> None:
        """The session's use, marked as the middleware's check marks it (rarely a write)."""
        await identity.confirm_caller(self.runtime, self.session, checked)

    async def principal(self) -> PersonPrincipal:
        """identity's full check, as the middleware makes it on every other route: the
        stepped-up person, or `Unauthenticated` / `StepUpRequired`."""
        return await self.full_check()


async def bearer_caller(request: Request) -> Caller:
    token: str = getattr(request.state, "deferred_token", "")
    session: AsyncSession | None = getattr(request.state, REQUEST_SESSION, None)
    if not token or session is None:
        raise Unauthenticated("请先登录")
    runtime: Runtime = request.app.state.runtime

    async def full_check() -> PersonPrincipal:
        await resolve_principal(request, session, token, kind="person", via="bearer")
        return await stepped_up_person(request)

    return Caller(session, runtime, identity.caller_check(runtime, token), full_check)


CallerDep = Annotated[Caller, Depends(bearer_caller)]
