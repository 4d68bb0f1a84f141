"""The identity API with bearer tokens, and IDOR: one person can never reach another's data."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.identity import (
    CARD_PASSWORD,
    PASSWORD,
    Member,
    last_code,
    member,
    stepped_up_bearer,
)
from tests.support.routes import app_routes, is_staff
from tests.support.world import define_regions, enrol, new_id_number, new_phone
from tests.web.identity_client import post_form
from yibao.identity.domain import PASSWORD_REFUSED_MESSAGE
from yibao.identity.tables import Passkey
from yibao.runtime import Runtime
from yibao.web.app import create_app


async def token_for(client: httpx.AsyncClient, identifier: str, password: str = PASSWORD) -> str:
    response = await client.post(
        "/api/v1/auth/tokens", json={"identifier": identifier, "password": password}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def pair(runtime: Runtime, session: AsyncSession) -> tuple[Member, Member]:
    a = await member(runtime, session, name="甲一")
    b = await member(runtime, session, name="乙二", with_regions=False)
    return a, b


async def _passkey(session: AsyncSession, account_id: int, credential_id: str) -> int:
    from datetime import UTC, datetime

    key = Passkey(
        account_id=account_id,
        credential_id=credential_id,
        public_key=b"\x01",
        sign_count=0,
        name="测试密钥",
        created_at=datetime.now(UTC),
    )
    session.add(key)
    await session.commit()
    return key.id


async def test_register_through_the_api(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    await define_regions(session)
    id_number, phone = new_id_number(), new_phone()
    await enrol(runtime, session, name="孙悦", id_number=id_number, phone=phone)
    await session.commit()
    sent = await client.post("/api/v1/auth/sms-codes", json={"phone": phone, "purpose": "register"})
    assert sent.status_code == 200 and sent.json()["sent_to"] == phone[:3] + "****" + phone[-4:]
    code = await last_code(session)
    weak = await client.post(
        "/api/v1/auth/registrations", json={"phone": phone, "code": code, "password": "weakpass"}
    )
    assert weak.status_code == 422 and weak.json()["error"]["code"] == "weak_password"
    ticket = (
        await client.post(
            "/api/v1/auth/registrations",
            json={"phone": phone, "code": code, "password": "Sun#yue2026"},
        )
    ).json()["ticket"]
    refused = await client.post(
        "/api/v1/auth/registrations/complete",
        json={"ticket": ticket, "name": "孙月", "id_number": id_number, "method": "face"},
    )
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "real_name_mismatch"
    done = await client.post(
        "/api/v1/auth/registrations/complete",
        json={
            "ticket": ticket,
            "name": "孙悦",
            "id_number": id_number,
            "method": "photo",
            "image_base64": "aGVsbG8=",
        },
    )
    assert done.status_code == 201
    me = await client.get("/api/v1/auth/me", headers=bearer(done.json()["token"]))
    assert me.json()["name"] == "孙悦" and me.json()["real_name_method"] == "身份证照片"


async def test_bearer_only_on_the_api(
    client: httpx.AsyncClient, pair: tuple[Member, Member]
) -> None:
    a, _ = pair
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    # A page cookie does not open the API (no cross-site riding of the cookie).
    await post_form(client, "/login", identifier=a.phone, password=PASSWORD)
    assert "yibao_session" in client.cookies
    anonymous = await client.get("/api/v1/auth/me")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "unauthenticated"
    # …and a bearer token does not open the pages.
    token = await token_for(client, a.phone)
    client.cookies.clear()
    page = await client.get("/passkeys", headers=bearer(token))
    assert page.status_code == 303


async def test_wrong_password_and_lockout_over_the_api(
    client: httpx.AsyncClient, pair: tuple[Member, Member]
) -> None:
    a, _ = pair
    body = {"identifier": a.phone, "password": "Wrong@2026"}
    codes = [
        (await client.post("/api/v1/auth/tokens", json=body)).json()["error"]["code"]
        for _ in range(5)
    ]
    # The fifth holds this (untrusted) client back, and says nothing an unknown phone would not.
    assert codes == ["sign_in_failed"] * 5
    unknown = await client.post(
        "/api/v1/auth/tokens", json={"identifier": "13900001111", "password": "Wrong@2026"}
    )
    assert unknown.status_code == 401
    assert unknown.json()["error"]["message"] == PASSWORD_REFUSED_MESSAGE


async def test_step_up_over_the_api_is_per_session(
    client: httpx.AsyncClient, pair: tuple[Member, Member]
) -> None:
    a, _ = pair
    first, second = await token_for(client, a.phone), await token_for(client, a.id_number)
    gated = await client.get("/api/v1/auth/security", headers=bearer(first))
    assert gated.status_code == 403 and gated.json()["error"]["code"] == "step_up_required"
    ok = await client.post(
        "/api/v1/auth/step-up",
        headers=bearer(first),
        json={"method": "card_password", "card_password": CARD_PASSWORD},
    )
    assert ok.status_code == 200 and ok.json()["step_up_until"]
    security = await client.get("/api/v1/auth/security", headers=bearer(first))
    assert security.status_code == 200 and security.json()["active_sessions"] == 2
    assert (await client.get("/api/v1/auth/security", headers=bearer(second))).status_code == 403


async def test_sign_out_and_sign_out_everywhere(
    client: httpx.AsyncClient, pair: tuple[Member, Member]
) -> None:
    a, b = pair
    one, two = await token_for(client, a.phone), await token_for(client, a.phone)
    b_token = await token_for(client, b.phone)
    assert (await client.post("/api/v1/auth/sign-out", headers=bearer(one))).status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=bearer(one))).status_code == 401
    three = await token_for(client, a.phone)
    ended = await client.post("/api/v1/auth/sign-out-everywhere", headers=bearer(three))
    assert ended.json()["sessions_ended"] == 2
    assert (await client.get("/api/v1/auth/me", headers=bearer(two))).status_code == 401
    # Someone else's sessions are untouched.
    assert (await client.get("/api/v1/auth/me", headers=bearer(b_token))).status_code == 200


# --- IDOR ----------------------------------------------------------------------------------------


async def test_each_token_sees_only_its_own_person(
    client: httpx.AsyncClient, pair: tuple[Member, Member]
) -> None:
    a, b = pair
    me_a = (
        await client.get("/api/v1/auth/me", headers=await stepped_up_bearer(client, a.phone))
    ).json()
    me_b = (
        await client.get("/api/v1/auth/me", headers=await stepped_up_bearer(client, b.phone))
    ).json()
    assert me_a["name"] == "甲一" and me_b["name"] == "乙二"
    assert me_a["phone_masked"] != me_b["phone_masked"]
    # Query strings that name another person are ignored: the principal decides.
    sneaky = await client.get(
        f"/api/v1/auth/me?person_id=999&account_id={b.account_id}",
        headers=await stepped_up_bearer(client, a.phone),
    )
    assert sneaky.json()["name"] == "甲一"


async def test_one_person_cannot_delete_anothers_passkey(
    client: httpx.AsyncClient, pair: tuple[Member, Member], session: AsyncSession
) -> None:
    a, b = pair
    b_key = await _passkey(session, b.account_id, "b-credential")
    a_key = await _passkey(session, a.account_id, "a-credential")
    token = await token_for(client, a.phone)
    await client.post(
        "/api/v1/auth/step-up",
        headers=bearer(token),
        json={"method": "card_password", "card_password": CARD_PASSWORD},
    )
    theirs = await client.delete(f"/api/v1/auth/passkeys/{b_key}", headers=bearer(token))
    missing = await client.delete("/api/v1/auth/passkeys/999999", headers=bearer(token))
    # Another's passkey looks exactly like one that does not exist.
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    listed = (await client.get("/api/v1/auth/security", headers=bearer(token))).json()["passkeys"]
    assert [k["id"] for k in listed] == [a_key]
    # The page route refuses it too.
    signed_in = await post_form(client, "/login", identifier=a.phone, password=PASSWORD)
    assert signed_in.status_code == 303, signed_in.text[:200]
    stepped = await post_form(client, "/verify/card-password", card_password=CARD_PASSWORD)
    assert stepped.status_code == 303, stepped.text[:200]
    page = await post_form(client, f"/passkeys/{b_key}/delete")
    assert page.status_code == 404
    await session.rollback()
    remaining = (await session.execute(select(Passkey.id).order_by(Passkey.id))).scalars().all()
    await session.rollback()
    assert list(remaining) == [b_key, a_key]
    assert (
        await client.delete(f"/api/v1/auth/passkeys/{a_key}", headers=bearer(token))
    ).status_code == 204


async def test_card_password_of_another_person_cannot_be_set(
    client: httpx.AsyncClient, pair: tuple[Member, Member], session: AsyncSession
) -> None:
    a, b = pair
    token = await token_for(client, a.phone)
    await client.post("/api/v1/auth/card-password/code", headers=bearer(token))
    code = await last_code(session)
    response = await client.post(
        "/api/v1/auth/card-password",
        headers=bearer(token),
        json={"id_number": b.id_number, "code": code, "card_password": "112233"},
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == "real_name_mismatch"


async def test_a_person_token_never_opens_staff_routes(
    client: httpx.AsyncClient, pair: tuple[Member, Member]
) -> None:
    a, _ = pair
    await post_form(client, "/login", identifier=a.phone, password=PASSWORD)
    assert (await client.get("/staff")).status_code == 303


def test_no_person_route_takes_a_person_from_the_url(runtime: Runtime) -> None:
    """Routes take the person from the principal only; an id of a person in the path is IDOR bait."""
    app = create_app(runtime=runtime)
    forbidden = {"person_id", "account_id", "psn_no", "id_number"}
    checked = 0
    for route in app_routes(app):
        if is_staff(route) or route.path.startswith("/fsi"):
            continue
        params = {p.name for p in route.dependant.path_params} | {
            p.name for p in route.dependant.query_params
        }
        assert not params & forbidden, route.path
        checked += 1
    assert checked > 100  # every person route, not only the app's own /healthz


async def test_the_openapi_lists_the_auth_api(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    assert {"/api/v1/auth/tokens", "/api/v1/auth/me", "/api/v1/auth/step-up"} <= set(paths)
