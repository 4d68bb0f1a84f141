"""The per-address limit on SMS codes through the app: the API answers 429 with Retry-After on
every route that sends a code, the pages show their form with the reason; another address is
unaffected, and the stretch's end lifts it. The default (20 per 15 minutes) is not lowered."""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.support.addresses import From
from tests.support.identity import PASSWORD, Member
from tests.support.world import new_phone
from tests.web.identity_client import post_form
from yibao.kernel.clock import FixedClock
from yibao.runtime import Runtime

BOMBER = "203.0.113.7"
NEIGHBOUR = "198.51.100.20"
CODES = 20  # the default


def _advance(runtime: Runtime, delta: timedelta) -> None:
    assert isinstance(runtime.clock, FixedClock)
    runtime.clock.advance(delta)


async def _code(client: httpx.AsyncClient, phone: str, purpose: str) -> httpx.Response:
    return await client.post("/api/v1/auth/sms-codes", json={"phone": phone, "purpose": purpose})


async def test_the_api_answers_429_with_retry_after_on_every_sending_route(
    runtime: Runtime, li: Member, from_address: From
) -> None:
    async with from_address(BOMBER) as bomber, from_address(NEIGHBOUR) as neighbour:
        token = await neighbour.post(
            "/api/v1/auth/tokens", json={"identifier": li.phone, "password": PASSWORD}
        )
        bearer = {"Authorization": f"Bearer {token.json()['token']}"}
        for i in range(CODES):
            sent = await _code(bomber, new_phone(), "register" if i % 2 else "sign_in")
            assert sent.is_success, sent.text
        refused = await _code(bomber, new_phone(), "register")
        assert refused.status_code == 429 and refused.headers["retry-after"] == "450"
        error = refused.json()["error"]
        assert error["code"] == "rate_limited"
        assert (
            "获取验证码次数过多" in error["message"]
            and "2026-11-25 10:15 后再试" in error["message"]
        )
        others = [
            bomber.post("/api/v1/auth/password-reset/code", json={"id_number": li.id_number}),
            bomber.post("/api/v1/auth/step-up/code", headers=bearer),
            bomber.post("/api/v1/auth/card-password/code", headers=bearer),
        ]
        for request in others:
            answer = await request
            assert answer.status_code == 429 and answer.headers["retry-after"] == "450"

        # The neighbour's network has its own budget, for the same person's phone too.
        assert (await neighbour.post("/api/v1/auth/step-up/code", headers=bearer)).is_success
        _advance(runtime, timedelta(seconds=449))
        assert (await _code(bomber, new_phone(), "register")).headers["retry-after"] == "1"
        _advance(runtime, timedelta(seconds=1))
        assert (await _code(bomber, new_phone(), "register")).is_success


async def test_the_pages_show_the_reason_on_their_form(
    runtime: Runtime, li: Member, from_address: From
) -> None:
    async with from_address(BOMBER) as bomber, from_address(NEIGHBOUR) as neighbour:
        for _ in range(CODES):
            sent = await post_form(bomber, "/register/code", phone=new_phone())
            assert sent.status_code == 200 and "验证码已发送至" in sent.text
        refused = await post_form(bomber, "/login/code", phone=li.phone)
        assert refused.status_code == 429 and refused.headers["retry-after"] == "450"
        assert "获取验证码次数过多" in refused.text and "2026-11-25 10:15 后再试" in refused.text
        assert 'name="phone"' in refused.text and "Traceback" not in refused.text
        again = await post_form(bomber, "/register/code", phone=new_phone())
        assert again.status_code == 429 and "获取验证码次数过多" in again.text
        # Signed in (a password, not a code): the step-up and 医保卡密码 pages are refused too.
        signed_in = await post_form(bomber, "/login", identifier=li.phone, password=PASSWORD)
        assert signed_in.status_code == 303
        for url in ["/verify/code", "/card-password/code"]:
            own = await post_form(bomber, url)
            assert own.status_code == 429 and "获取验证码次数过多" in own.text, url
        forgot = await post_form(bomber, "/forgot/code", id_number=li.id_number)
        assert forgot.status_code == 429 and 'name="id_number"' in forgot.text

        ok = await post_form(neighbour, "/login/code", phone=li.phone)
        assert ok.status_code == 200 and "验证码已发送" in ok.text
        _advance(runtime, timedelta(minutes=7, seconds=30))
        ok = await post_form(bomber, "/register/code", phone=new_phone())
        assert ok.status_code == 200 and "验证码已发送至" in ok.text
