"""The card query password (医保卡密码) as a step-up method locks after five wrong ones within the
lockout window, for the lockout's 30 minutes, judged by the runtime's clock: the refusal is 429
with Retry-After through the API and says when to try again on the page; the right password is
refused until the last second and accepted after it."""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.support.addresses import From
from tests.support.identity import CARD_PASSWORD, PASSWORD, Member
from tests.web.identity_client import post_form
from yibao.kernel.clock import FixedClock
from yibao.runtime import Runtime

ADDRESS = "198.51.100.30"
WRONG = "000000"
LOCK_SECONDS = 30 * 60  # YIBAO_LOCKOUT_MINUTES' default
UNTIL = "2026-11-25 10:37"  # 10:07:30 (Beijing) + 30 minutes


async def _wait(
    runtime: Runtime,
    c: httpx.AsyncClient,
    seconds: int,
    touch: str,
    headers: dict[str, str] | None = None,
) -> None:
    """Move the clock on, using the session every ten minutes so it does not idle out (15)."""
    assert isinstance(runtime.clock, FixedClock)
    while seconds > 0:
        step = min(seconds, 600)
        runtime.clock.advance(timedelta(seconds=step))
        seconds -= step
        assert (await c.get(touch, headers=headers)).status_code == 200


async def _step_up(c: httpx.AsyncClient, bearer: dict[str, str], card: str) -> httpx.Response:
    body = {"method": "card_password", "card_password": card}
    return await c.post("/api/v1/auth/step-up", json=body, headers=bearer)


async def test_the_api_locks_with_retry_after_until_the_lock_ends(
    runtime: Runtime, from_address: From, li: Member
) -> None:
    async with from_address(ADDRESS) as c:
        token = await c.post(
            "/api/v1/auth/tokens", json={"identifier": li.phone, "password": PASSWORD}
        )
        bearer = {"Authorization": f"Bearer {token.json()['token']}"}
        for left in (4, 3, 2, 1):
            wrong = await _step_up(c, bearer, WRONG)
            assert wrong.status_code == 422 and f"还可尝试{left}次" in wrong.text
            assert "retry-after" not in wrong.headers
        locked = await _step_up(c, bearer, WRONG)  # the fifth locks, and says so at once
        assert locked.status_code == 429, locked.text
        assert locked.headers["retry-after"] == str(LOCK_SECONDS)
        assert locked.json()["error"]["code"] == "rate_limited"
        assert f"请于 {UNTIL} 后再试" in locked.json()["error"]["message"]

        await _wait(runtime, c, 600, "/api/v1/auth/me", headers=bearer)
        still = await _step_up(c, bearer, CARD_PASSWORD)  # even the right one
        assert still.status_code == 429
        assert still.headers["retry-after"] == str(LOCK_SECONDS - 600)
        await _wait(runtime, c, LOCK_SECONDS - 600 - 1, "/api/v1/auth/me", headers=bearer)
        last = await _step_up(c, bearer, CARD_PASSWORD)
        assert last.status_code == 429 and last.headers["retry-after"] == "1"
        # SMS codes still work meanwhile.
        assert (await c.post("/api/v1/auth/step-up/code", headers=bearer)).is_success

        await _wait(runtime, c, 1, "/api/v1/auth/me", headers=bearer)
        opened = await _step_up(c, bearer, CARD_PASSWORD)
        assert opened.status_code == 200, opened.text


async def test_the_page_says_when_to_try_again(
    runtime: Runtime, from_address: From, li: Member
) -> None:
    async with from_address(ADDRESS) as c:
        signed_in = await post_form(c, "/login", identifier=li.phone, password=PASSWORD)
        assert signed_in.status_code == 303
        for _ in range(4):
            wrong = await post_form(c, "/verify/card-password", card_password=WRONG)
            assert wrong.status_code == 422
        locked = await post_form(c, "/verify/card-password", card_password=WRONG)
        assert locked.status_code == 429 and locked.headers["retry-after"] == str(LOCK_SECONDS)
        assert f"请于 {UNTIL} 后再试" in locked.text and 'name="card_password"' in locked.text
        await _wait(runtime, c, LOCK_SECONDS - 1, "/card-password")
        still = await post_form(c, "/verify/card-password", card_password=CARD_PASSWORD)
        assert still.status_code == 429 and f"请于 {UNTIL} 后再试" in still.text
        await _wait(runtime, c, 1, "/card-password")
        opened = await post_form(c, "/verify/card-password", card_password=CARD_PASSWORD)
        assert opened.status_code == 303
