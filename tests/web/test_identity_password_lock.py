"""The password lockout (issue #24, item 11) is neither an account oracle nor a way to lock the
owner out. A password sign-in refused for any reason (no such account, a wrong password, held
back by the lockout) gets the same status, body and headers. Five wrong passwords from devices
the account never signed in on hold back password sign-in from all such devices for 30 minutes,
while the owner's browser or app, holding the device token its last sign-in handed it, keeps its
own count and signs in. On the API, the page and the staff sign-in alike."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pyotp
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.addresses import From
from tests.support.identity import PASSWORD, Member, last_code
from tests.web.identity_client import answered_alike, post_form
from yibao.identity import service as identity
from yibao.identity.domain import PASSWORD_REFUSED_MESSAGE
from yibao.kernel.clock import FixedClock
from yibao.runtime import Runtime

OWNER = "198.51.100.40"
ATTACKER = "203.0.113.66"
WRONG = "Wrong@2026"
UNKNOWN_PHONE = "13900001111"
LOCK = timedelta(minutes=30)  # YIBAO_LOCKOUT_MINUTES' default
TOKENS = "/api/v1/auth/tokens"


def _advance(runtime: Runtime, delta: timedelta) -> None:
    assert isinstance(runtime.clock, FixedClock)
    runtime.clock.advance(delta)


def _same_answer(*answers: httpx.Response) -> None:
    """Byte for byte: status, every header and the body."""
    seen = {(a.status_code, tuple(sorted(a.headers.multi_items())), a.content) for a in answers}
    assert len(seen) == 1, seen


async def test_the_api_answers_alike_and_keeps_the_owners_device_open(
    runtime: Runtime, from_address: From, li: Member
) -> None:
    async with from_address(OWNER) as owner, from_address(ATTACKER) as attacker:
        first = await owner.post(TOKENS, json={"identifier": li.phone, "password": PASSWORD})
        assert first.status_code == 201
        device = first.json()["device_token"]
        assert device

        unknown = await attacker.post(TOKENS, json={"identifier": UNKNOWN_PHONE, "password": WRONG})
        wrong = [
            await attacker.post(TOKENS, json={"identifier": li.phone, "password": WRONG})
            for _ in range(5)  # the fifth holds untrusted devices back
        ]
        held_back = await attacker.post(TOKENS, json={"identifier": li.phone, "password": PASSWORD})
        _same_answer(unknown, *wrong, held_back)
        assert held_back.status_code == 401 and "retry-after" not in held_back.headers
        assert held_back.json()["error"] == {
            "code": "sign_in_failed",
            "message": PASSWORD_REFUSED_MESSAGE,
        }

        # The owner's app, with its device token, signs in meanwhile; a forged or another
        # account's token is no better than none.
        mine = {"identifier": li.phone, "password": PASSWORD, "device_token": device}
        ok = await owner.post(TOKENS, json=mine)
        assert ok.status_code == 201, ok.text
        forged = device[:-4] + ("0000" if not device.endswith("0000") else "1111")
        for token in (forged, "person999999." + device.split(".", 1)[1]):
            stolen = {"identifier": li.phone, "password": PASSWORD, "device_token": token}
            _same_answer(held_back, await attacker.post(TOKENS, json=stolen))
        # The owner's sign-in did not reopen guessing: the attacker stays refused, until the clock.
        _advance(runtime, LOCK - timedelta(seconds=1))
        still = await attacker.post(TOKENS, json={"identifier": li.phone, "password": PASSWORD})
        _same_answer(held_back, still)
        _advance(runtime, timedelta(seconds=1))
        later = await attacker.post(TOKENS, json={"identifier": li.phone, "password": PASSWORD})
        assert later.status_code == 201


async def test_a_trusted_device_has_its_own_count(
    runtime: Runtime, from_address: From, li: Member
) -> None:
    async with from_address(OWNER) as owner:
        device = (
            await owner.post(TOKENS, json={"identifier": li.phone, "password": PASSWORD})
        ).json()["device_token"]
        mine = {"identifier": li.phone, "device_token": device}
        for _ in range(5):
            wrong = await owner.post(TOKENS, json=mine | {"password": WRONG})
            assert wrong.status_code == 401
        held = await owner.post(TOKENS, json=mine | {"password": PASSWORD})
        assert held.status_code == 401  # this device is held back now…
        # …but not the owner's other devices, nor untrusted ones: their counts are their own.
        fresh = await owner.post(TOKENS, json={"identifier": li.phone, "password": PASSWORD})
        assert fresh.status_code == 201


async def test_sms_codes_still_sign_the_owner_in(
    runtime: Runtime, session: AsyncSession, from_address: From, li: Member
) -> None:
    async with from_address(ATTACKER) as attacker, from_address(OWNER) as owner:
        for _ in range(5):
            await attacker.post(TOKENS, json={"identifier": li.phone, "password": WRONG})
        asked = {"phone": li.phone, "purpose": "sign_in"}
        assert (await owner.post("/api/v1/auth/sms-codes", json=asked)).is_success
        code = await last_code(session)
        by_code = await owner.post(
            "/api/v1/auth/tokens/sms", json={"phone": li.phone, "code": code}
        )
        assert by_code.status_code == 201, by_code.text
        # Signing in by code on a new device does not reopen password guessing.
        again = await attacker.post(TOKENS, json={"identifier": li.phone, "password": PASSWORD})
        assert again.status_code == 401


async def test_the_login_page_answers_alike_and_the_owners_browser_gets_in(
    runtime: Runtime, from_address: From, li: Member
) -> None:
    async with from_address(OWNER) as owner, from_address(ATTACKER) as attacker:
        first = await post_form(owner, "/login", identifier=li.phone, password=PASSWORD)
        assert first.status_code == 303
        cookie = next(c for c in first.headers.get_list("set-cookie") if "yibao_device=" in c)
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/login" in cookie
        await post_form(owner, "/logout")

        unknown = await post_form(attacker, "/login", identifier=UNKNOWN_PHONE, password=WRONG)
        for _ in range(5):
            await post_form(attacker, "/login", identifier=li.phone, password=WRONG)
        held_back = await post_form(attacker, "/login", identifier=li.phone, password=PASSWORD)
        answered_alike([unknown, held_back], [UNKNOWN_PHONE, li.phone])
        assert held_back.status_code == 401 and PASSWORD_REFUSED_MESSAGE in held_back.text
        assert 'name="password"' in held_back.text  # the form again, not an error page

        mine = await post_form(owner, "/login", identifier=li.phone, password=PASSWORD)
        assert mine.status_code == 303, mine.text
        refused = await post_form(attacker, "/login", identifier=li.phone, password=PASSWORD)
        assert refused.status_code == 401


async def test_the_staff_sign_in_answers_alike_and_keeps_the_clerks_desk_open(
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
    totp = pyotp.TOTP(secret)

    def right() -> dict[str, str]:
        _advance(runtime, timedelta(seconds=30))  # a TOTP code is good once
        return {
            "username": "clerk9",
            "password": "Staff@2026",
            "totp": totp.at(runtime.clock.now()),
        }

    async with from_address(OWNER) as desk, from_address(ATTACKER) as attacker:
        assert (await post_form(desk, "/staff/login", **right())).status_code == 303
        wrong = {"username": "clerk9", "password": WRONG, "totp": "000000"}
        unknown = await post_form(attacker, "/staff/login", **(wrong | {"username": "nobody"}))
        for _ in range(5):
            await post_form(attacker, "/staff/login", **wrong)
        held_back = await post_form(attacker, "/staff/login", **right())
        answered_alike([unknown, held_back], ["nobody", "clerk9"])
        assert held_back.status_code == 401 and "retry-after" not in held_back.headers
        assert (await post_form(desk, "/staff/login", **right())).status_code == 303
