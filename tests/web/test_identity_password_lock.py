"""The password lockout (five wrong passwords lock the account for 30 minutes) answers
`Retry-After` with the seconds left until it unlocks, judged by the runtime's clock, at every
refusal until the last second: on the API (423 account_locked), on /login and on /staff/login,
whichever way the person tries (password, SMS code)."""

from __future__ import annotations

from datetime import timedelta

import pyotp
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.addresses import From
from tests.support.identity import PASSWORD, Member, last_code
from tests.web.identity_client import post_form
from yibao.identity import service as identity
from yibao.kernel.clock import FixedClock
from yibao.runtime import Runtime

ADDRESS = "198.51.100.40"
WRONG = "Wrong@2026"
LOCK_SECONDS = 30 * 60  # YIBAO_LOCKOUT_MINUTES' default
UNLOCKS = "将于 2026-11-25 10:37 自动解锁"  # 10:07:30 (Beijing) + 30 minutes


def _advance(runtime: Runtime, seconds: int) -> None:
    assert isinstance(runtime.clock, FixedClock)
    runtime.clock.advance(timedelta(seconds=seconds))


async def test_the_api_answers_retry_after_until_the_account_unlocks(
    runtime: Runtime, session: AsyncSession, from_address: From, li: Member
) -> None:
    async with from_address(ADDRESS) as c:
        wrong = {"identifier": li.phone, "password": WRONG}
        for _ in range(4):
            refused = await c.post("/api/v1/auth/tokens", json=wrong)
            assert refused.status_code == 401 and "retry-after" not in refused.headers
        locked = await c.post("/api/v1/auth/tokens", json=wrong)  # the fifth locks
        assert locked.status_code == 423, locked.text
        assert locked.json()["error"]["code"] == "account_locked"
        assert UNLOCKS in locked.json()["error"]["message"]
        assert locked.headers["retry-after"] == str(LOCK_SECONDS)

        _advance(runtime, 600)
        right = {"identifier": li.phone, "password": PASSWORD}
        still = await c.post("/api/v1/auth/tokens", json=right)
        assert still.status_code == 423 and still.headers["retry-after"] == str(LOCK_SECONDS - 600)
        # An SMS code is refused alike while the account is locked.
        asked = {"phone": li.phone, "purpose": "sign_in"}
        assert (await c.post("/api/v1/auth/sms-codes", json=asked)).is_success
        by_code = {"phone": li.phone, "code": await last_code(session)}
        sms = await c.post("/api/v1/auth/tokens/sms", json=by_code)
        assert sms.status_code == 423 and sms.headers["retry-after"] == str(LOCK_SECONDS - 600)

        _advance(runtime, LOCK_SECONDS - 600 - 1)
        last = await c.post("/api/v1/auth/tokens", json=right)
        assert last.status_code == 423 and last.headers["retry-after"] == "1"
        _advance(runtime, 1)
        opened = await c.post("/api/v1/auth/tokens", json=right)
        assert opened.status_code == 201, opened.text


async def test_the_login_page_says_when_and_answers_retry_after(
    runtime: Runtime, from_address: From, li: Member
) -> None:
    async with from_address(ADDRESS) as c:
        for _ in range(4):
            wrong = await post_form(c, "/login", identifier=li.phone, password=WRONG)
            assert wrong.status_code == 401 and "retry-after" not in wrong.headers
        locked = await post_form(c, "/login", identifier=li.phone, password=WRONG)
        assert locked.status_code == 423 and UNLOCKS in locked.text
        assert locked.headers["retry-after"] == str(LOCK_SECONDS)
        assert 'name="password"' in locked.text  # the form again, not an error page

        _advance(runtime, LOCK_SECONDS - 1)
        still = await post_form(c, "/login", identifier=li.phone, password=PASSWORD)
        assert still.status_code == 423 and UNLOCKS in still.text
        assert still.headers["retry-after"] == "1"
        _advance(runtime, 1)
        opened = await post_form(c, "/login", identifier=li.phone, password=PASSWORD)
        assert opened.status_code == 303


async def test_the_staff_login_page_answers_retry_after(
    runtime: Runtime, session: AsyncSession, from_address: From, li: Member
) -> None:
    _, secret = await identity.create_staff(
        runtime,
        session,
        username="clerk9",
        name="王晓红",
        password="Staff@2026",
        roles=["clerk"],
        office="徐汇医保中心",
    )
    async with from_address(ADDRESS) as c:
        wrong = {"username": "clerk9", "password": WRONG, "totp": "000000"}
        for _ in range(4):
            assert (await post_form(c, "/staff/login", **wrong)).status_code == 401
        locked = await post_form(c, "/staff/login", **wrong)
        assert locked.status_code == 423 and UNLOCKS in locked.text
        assert locked.headers["retry-after"] == str(LOCK_SECONDS)
        _advance(runtime, 600)
        right = {"username": "clerk9", "password": "Staff@2026", "totp": pyotp.TOTP(secret).now()}
        still = await post_form(c, "/staff/login", **right)
        assert still.status_code == 423 and still.headers["retry-after"] == str(LOCK_SECONDS - 600)
