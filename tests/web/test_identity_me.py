"""`GET /api/v1/auth/me` (issue #24, item 13): account details need a step-up (docs/identity.md),
so without one it answers only the session's own facts; with one, the personal details too."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.identity import CARD_PASSWORD, PASSWORD, member
from yibao.runtime import Runtime

PERSONAL = ("name", "id_number_masked", "phone_masked", "real_name_method", "has_card_password")


async def test_me_tells_no_personal_detail_before_a_step_up_and_all_after(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    li = await member(runtime, session, name="李华")
    token = await client.post(
        "/api/v1/auth/tokens", json={"identifier": li.phone, "password": PASSWORD}
    )
    headers = {"Authorization": f"Bearer {token.json()['token']}"}

    before = await client.get("/api/v1/auth/me", headers=headers)
    assert before.status_code == 200
    assert before.json() == {"stepped_up": False, "step_up_until": None} | dict.fromkeys(PERSONAL)
    for secret in (li.name, li.phone[-4:], li.id_number[-4:]):
        assert secret not in before.text

    step = await client.post(
        "/api/v1/auth/step-up",
        json={"method": "card_password", "card_password": CARD_PASSWORD},
        headers=headers,
    )
    assert step.status_code == 200, step.text
    after = (await client.get("/api/v1/auth/me", headers=headers)).json()
    assert after["stepped_up"] is True and after["step_up_until"]
    assert after["name"] == "李华" and after["has_card_password"] is True
    assert after["phone_masked"] == li.phone[:3] + "****" + li.phone[-4:]
    assert after["id_number_masked"].endswith(li.id_number[-4:])
