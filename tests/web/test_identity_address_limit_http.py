"""The per-address limit on failed sign-ins through the app: the API answers 429 with Retry-After,
the pages show their form with the reason, staff sign-in alike; another address is unaffected."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.addresses import From
from tests.support.identity import CARD_PASSWORD, PASSWORD, Member
from tests.support.world import new_phone
from tests.web.identity_client import post_form
from yibao.kernel.clock import FixedClock
from yibao.runtime import Runtime

STUFFER = "203.0.113.7"
NEIGHBOUR = "198.51.100.20"
FAILURES = 30  # the default: the tests do not lower it


def _advance(runtime: Runtime, delta: timedelta) -> None:
    assert isinstance(runtime.clock, FixedClock)
    runtime.clock.advance(delta)


async def _token(client: httpx.AsyncClient, identifier: str, password: str) -> httpx.Response:
    body = {"identifier": identifier, "password": password}
    return await client.post("/api/v1/auth/tokens", json=body)


async def test_the_api_answers_429_with_retry_after(
    runtime: Runtime, li: Member, from_address: From
) -> None:
    async with from_address(STUFFER) as stuffer, from_address(NEIGHBOUR) as neighbour:
        for identifier in [li.phone, li.id_number, *(new_phone() for _ in range(FAILURES - 2))]:
            assert (await _token(stuffer, identifier, "Guess@2026")).status_code == 401
        refused = await _token(stuffer, li.phone, PASSWORD)
        assert refused.status_code == 429 and refused.headers["retry-after"] == "450"
        error = refused.json()["error"]
        assert error["code"] == "rate_limited" and "2026-11-25 10:15 后再试" in error["message"]
        # The address is the connection's (or what uvicorn took from a trusted proxy): a header
        # the client writes itself changes nothing.
        forged = await stuffer.post(
            "/api/v1/auth/tokens",
            json={"identifier": li.phone, "password": PASSWORD},
            headers={"X-Forwarded-For": NEIGHBOUR, "X-Real-IP": NEIGHBOUR},
        )
        assert forged.status_code == 429

        signed_in = await _token(neighbour, li.phone, PASSWORD)
        assert signed_in.status_code == 201
        # Step-up takes a secret too: refused from the throttled address, whoever's token it is.
        bearer = {"Authorization": f"Bearer {signed_in.json()['token']}"}
        step_up = {"method": "card_password", "card_password": CARD_PASSWORD}
        refused = await stuffer.post("/api/v1/auth/step-up", json=step_up, headers=bearer)
        assert refused.status_code == 429 and refused.headers["retry-after"] == "450"
        _advance(runtime, timedelta(seconds=449))
        assert (await _token(stuffer, li.phone, PASSWORD)).headers["retry-after"] == "1"
        _advance(runtime, timedelta(seconds=1))
        assert (await _token(stuffer, li.phone, PASSWORD)).status_code == 201
        assert (await stuffer.post("/api/v1/auth/step-up", json=step_up, headers=bearer)).is_success


async def test_the_pages_show_the_reason_on_their_form(
    runtime: Runtime, session: AsyncSession, li: Member, from_address: From
) -> None:
    from yibao.identity import service as identity

    await identity.create_staff(
        runtime,
        session,
        username="clerk1",
        name="王晓红",
        password="Staff@2026",
        roles=["clerk"],
        office="徐汇医保中心",
    )
    async with from_address(STUFFER) as stuffer, from_address(NEIGHBOUR) as neighbour:
        for _ in range(FAILURES):
            wrong = await post_form(
                stuffer, "/login", identifier=new_phone(), password="Guess@2026"
            )
            assert wrong.status_code == 401 and "账号或密码错误" in wrong.text
        refused = await post_form(stuffer, "/login", identifier=li.phone, password=PASSWORD)
        assert refused.status_code == 429 and refused.headers["retry-after"] == "450"
        assert "2026-11-25 10:15 后再试" in refused.text and 'name="password"' in refused.text
        assert "Traceback" not in refused.text and "yibao_session=" not in str(refused.headers)
        sms = await post_form(stuffer, "/login/sms", phone=li.phone, code="123456")
        assert sms.status_code == 429 and "后再试" in sms.text
        staff = await post_form(
            stuffer, "/staff/login", username="clerk1", password="Staff@2026", totp="000000"
        )
        assert staff.status_code == 429 and "后再试" in staff.text

        ok = await post_form(neighbour, "/login", identifier=li.phone, password=PASSWORD)
        assert ok.status_code == 303
        _advance(runtime, timedelta(minutes=7, seconds=30))
        ok = await post_form(stuffer, "/login", identifier=li.phone, password=PASSWORD)
        assert ok.status_code == 303 and "yibao_session=" in ok.headers["set-cookie"]
