"""Every staff route needs a staff session, which exists only after password + TOTP, and which
ends after the staff idle timeout (15 minutes by default, a setting)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pyotp
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.identity import CLIENT, PASSWORD, member
from tests.support.routes import app_routes, concrete, is_staff
from tests.web.identity_client import csrf_token, post_form
from yibao.config import Settings
from yibao.identity import service as identity
from yibao.kernel.clock import FixedClock
from yibao.runtime import Runtime, build_runtime

# The sign-in form and sign-out are the only staff routes open without a staff session.
OPEN = {("GET", "/staff/login"), ("POST", "/staff/login"), ("POST", "/staff/logout")}


@pytest.fixture
async def app_client(rt: Runtime) -> AsyncIterator[tuple[httpx.AsyncClient, list[APIRoute]]]:
    from yibao.web.app import create_app

    app = create_app(runtime=rt)
    routes = [r for r in app_routes(app) if is_staff(r)]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c, routes


async def _staff_signed_in(rt: Runtime, db: AsyncSession, client: httpx.AsyncClient) -> None:
    _, secret = await identity.create_staff(
        rt, db, username="clerk1", name="张建华", password="Staff@2026", roles=["clerk"],
        office="徐汇区医保中心",
    )  # fmt: skip
    done = await post_form(
        client,
        "/staff/login",
        username="clerk1",
        password="Staff@2026",
        totp=pyotp.TOTP(secret).at(rt.clock.now()),
        next="/staff",
    )
    assert done.status_code == 303 and done.headers["location"] == "/staff"


async def test_no_staff_route_answers_without_a_staff_session(
    app_client: tuple[httpx.AsyncClient, list[APIRoute]], rt: Runtime
) -> None:
    client, routes = app_client
    async with rt.sessions() as db:
        me = await member(rt, db)
    # A signed-in person is no staff member.
    signed_in = await post_form(client, "/login", identifier=me.phone, password=PASSWORD)
    assert signed_in.status_code == 303
    token = await csrf_token(client)
    tried = 0
    for route in routes:
        for method in sorted(route.methods - {"HEAD"}):
            if (method, route.path) in OPEN:
                continue
            path = concrete(route.path)
            response = await client.request(method, path, headers={"x-csrf-token": token})
            assert response.status_code in (303, 401), (method, path, response.status_code)
            if response.status_code == 303:
                assert response.headers["location"].startswith("/staff/login"), (method, path)
            tried += 1
    assert tried >= 20


async def test_staff_session_ends_after_fifteen_idle_minutes(
    app_client: tuple[httpx.AsyncClient, list[APIRoute]], rt: Runtime, clock: FixedClock
) -> None:
    client, _ = app_client
    assert rt.settings.staff_session_idle_minutes == 15
    async with rt.sessions() as db:
        await _staff_signed_in(rt, db, client)
    assert (await client.get("/staff/persons")).status_code == 200
    clock.advance(timedelta(minutes=14, seconds=50))
    assert (await client.get("/staff/persons")).status_code == 200  # used again: idle from now
    clock.advance(timedelta(minutes=15))
    gone = await client.get("/staff/persons")
    assert gone.status_code == 303 and gone.headers["location"].startswith("/staff/login")
    # Ended for good, not only for this request.
    clock.advance(timedelta(seconds=1))
    assert (await client.get("/staff/persons")).status_code == 303


async def test_staff_idle_timeout_is_a_setting_capped_at_fifteen_minutes(
    settings: Settings,
) -> None:
    shorter = Settings(**{**settings.model_dump(), "staff_session_idle_minutes": 5})
    assert shorter.staff_session_idle_minutes == 5
    with pytest.raises(ValueError, match="staff_session_idle_minutes"):
        Settings(**{**settings.model_dump(), "staff_session_idle_minutes": 30})


async def test_a_shorter_staff_timeout_does_not_shorten_the_persons(
    settings: Settings, clock: FixedClock
) -> None:
    short = settings.model_copy(update={"staff_session_idle_minutes": 5})
    runtime = build_runtime(short, clock=clock)
    try:
        async with runtime.sessions() as db:
            me = await member(runtime, db)
            person = await identity.sign_in_with_password(
                runtime, db, me.phone, PASSWORD, via="cookie", client=CLIENT
            )
            _, secret = await identity.create_staff(
                runtime, db, username="clerk2", name="李经办", password="Staff@2026",
                roles=["clerk"], office="徐汇区医保中心",
            )  # fmt: skip
            staff = await identity.staff_sign_in(
                runtime, db, username="clerk2", password="Staff@2026",
                totp_code=pyotp.TOTP(secret).at(clock.now()), client=CLIENT,
            )  # fmt: skip
            clock.advance(timedelta(minutes=6))
            assert await identity.resolve_session(runtime, db, staff.token, kind="staff") is None
            assert await identity.resolve_session(runtime, db, person.token, kind="person")
    finally:
        await runtime.close()


async def test_a_session_in_use_stays_alive_and_is_touched_once_per_tenth_of_its_timeout(
    rt: Runtime, clock: FixedClock
) -> None:
    """Each touch is a committed write; a session used every minute for 40 minutes (over twice
    its 15-minute timeout) stays alive, written about every 90 seconds, not on every request."""
    async with rt.sessions() as db:
        me = await member(rt, db)
        person = await identity.sign_in_with_password(
            rt, db, me.phone, PASSWORD, via="cookie", client=CLIENT
        )
    seen: list[datetime] = []
    for _ in range(40):
        clock.advance(timedelta(minutes=1))
        async with rt.sessions() as db:
            assert await identity.resolve_session(rt, db, person.token, kind="person")
            (last,) = (
                await db.execute(
                    text("SELECT last_seen_at FROM sign_in_sessions WHERE ended_at IS NULL")
                )
            ).one()
        seen.append(last)
    # The sign-in's own time, then a touch on every second use (90 s is a tenth of 15 minutes).
    assert len(set(seen)) == 1 + 20
    clock.advance(timedelta(minutes=15))
    async with rt.sessions() as db:
        assert await identity.resolve_session(rt, db, person.token, kind="person") is None
