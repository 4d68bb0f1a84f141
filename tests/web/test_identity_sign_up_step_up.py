"""Right after sign-up, 医保查询 opens without a second SMS code (issue #24, from item 16): the
sign-up's own code proved the phone a minute earlier, which is what a step-up asks. The window runs
from when that code was proven, not from the end of sign-up."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.addresses import AT
from tests.support.identity import last_code
from tests.support.world import define_regions, enrol, new_id_number, new_phone
from tests.web.identity_client import hidden, post_form
from yibao.kernel.clock import FixedClock
from yibao.runtime import Runtime

STEP_UP_WINDOW = timedelta(minutes=10)  # YIBAO_STEP_UP_MINUTES' default


async def _enrolled(runtime: Runtime, session: AsyncSession) -> tuple[str, str]:
    await define_regions(session)
    id_number, phone = new_id_number(), new_phone()
    await enrol(runtime, session, name="周敏", id_number=id_number, phone=phone)
    await session.commit()
    return id_number, phone


async def test_the_first_account_page_after_signing_up_needs_no_new_code(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    runtime.clock = clock = FixedClock(AT)
    id_number, phone = await _enrolled(runtime, session)
    await post_form(client, "/register/code", phone=phone)
    code = await last_code(session)
    fields = {"phone": phone, "code": code, "password": "Zhou#2026", "password2": "Zhou#2026"}
    ticket = hidden((await post_form(client, "/register/password", **fields)).text, "ticket")
    clock.advance(timedelta(minutes=1))  # the real-name step takes a minute
    done = await post_form(
        client, "/register/realname", ticket=ticket, name="周敏", id_number=id_number, method="face"
    )
    assert done.status_code == 303, done.text

    account = await client.get("/account")
    assert account.status_code == 200, account.headers.get("location")
    security = await client.get("/security")
    assert security.status_code == 200

    # Ten minutes after the code was proven, account details ask for a step-up again.
    clock.advance(STEP_UP_WINDOW - timedelta(minutes=1))
    later = await client.get("/account")
    assert later.status_code == 303 and later.headers["location"].startswith("/verify")


async def test_the_api_token_from_sign_up_is_stepped_up(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    runtime.clock = clock = FixedClock(AT)
    id_number, phone = await _enrolled(runtime, session)
    asked = {"phone": phone, "purpose": "register"}
    assert (await client.post("/api/v1/auth/sms-codes", json=asked)).status_code == 200
    started = await client.post(
        "/api/v1/auth/registrations",
        json={"phone": phone, "code": await last_code(session), "password": "Sun#yue2026"},
    )
    clock.advance(timedelta(minutes=1))
    done = await client.post(
        "/api/v1/auth/registrations/complete",
        json={"ticket": started.json()["ticket"], "name": "周敏", "id_number": id_number},
    )
    assert done.status_code == 201, done.text
    headers = {"Authorization": f"Bearer {done.json()['token']}"}

    account = await client.get("/api/v1/account", headers=headers)
    assert account.status_code == 200, account.text
    assert (await client.get("/api/v1/auth/security", headers=headers)).status_code == 200

    clock.advance(STEP_UP_WINDOW - timedelta(minutes=1))
    later = await client.get("/api/v1/account", headers=headers)
    assert later.status_code == 403 and later.json()["error"]["code"] == "step_up_required"
