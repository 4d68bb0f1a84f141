"""Passkeys on the bearer API, driven by a software authenticator (ES256, "none" attestation)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.identity import CARD_PASSWORD, PASSWORD, Member, member
from tests.support.passkeys import SoftwarePasskey, b64url
from tests.web.identity_client import csrf_token, post_form
from tests.web.test_identity_api import bearer, token_for
from yibao.identity.tables import Passkey, SecurityEvent
from yibao.runtime import Runtime

API = "/api/v1/auth"


async def options(client: httpx.AsyncClient, url: str, token: str | None = None) -> dict[str, Any]:
    response = await client.post(url, headers=bearer(token) if token else {})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def register(
    client: httpx.AsyncClient, token: str, key: SoftwarePasskey, name: str = "我的手机"
) -> httpx.Response:
    offered = await options(client, f"{API}/passkeys/options", token)
    return await client.post(
        f"{API}/passkeys",
        headers=bearer(token),
        json={"flow": offered["flow"], "credential": key.create(offered["options"]), "name": name},
    )


async def passkey_token(client: httpx.AsyncClient, key: SoftwarePasskey) -> httpx.Response:
    offered = await options(client, f"{API}/tokens/passkey/options")
    return await client.post(
        f"{API}/tokens/passkey",
        json={"flow": offered["flow"], "credential": key.get(offered["options"])},
    )


@pytest.fixture
async def li(runtime: Runtime, session: AsyncSession) -> Member:
    return await member(runtime, session, name="李明")


@pytest.fixture
async def wang(runtime: Runtime, session: AsyncSession) -> Member:
    return await member(runtime, session, name="王芳", with_regions=False)


async def test_register_list_sign_in_and_step_up_with_a_passkey(
    client: httpx.AsyncClient, li: Member, session: AsyncSession
) -> None:
    token = await token_for(client, li.phone)
    offered = await options(client, f"{API}/passkeys/options", token)
    creation = offered["options"]
    assert creation["rp"]["id"] == "testserver" and creation["user"]["displayName"] == "李明"
    assert creation["authenticatorSelection"]["userVerification"] == "required"
    key = SoftwarePasskey()
    added = await client.post(
        f"{API}/passkeys",
        headers=bearer(token),
        json={"flow": offered["flow"], "credential": key.create(creation), "name": "华为手机"},
    )
    assert added.status_code == 201, added.text
    assert added.json()["name"] == "华为手机" and added.json()["created"]
    listed = (await client.get(f"{API}/passkeys", headers=bearer(token))).json()["passkeys"]
    assert listed == [added.json()]
    # The next registration excludes the passkey already on this account.
    again = await options(client, f"{API}/passkeys/options", token)
    assert [c["id"] for c in again["options"]["excludeCredentials"]] == [key.id]

    # The passkey alone signs 李明 in: a fresh client, no password, no phone.
    signed_in = await passkey_token(client, key)
    assert signed_in.status_code == 201, signed_in.text
    fresh = signed_in.json()["token"]
    assert fresh != token
    me = await client.get(f"{API}/me", headers=bearer(fresh))
    assert me.status_code == 200 and me.json()["step_up_until"] is None

    # Account details need a step-up; the passkey gives one, on this session only.
    blocked = await client.get(f"{API}/security", headers=bearer(fresh))
    assert blocked.status_code == 403 and blocked.json()["error"]["code"] == "step_up_required"
    request = await options(client, f"{API}/step-up/passkey/options", fresh)
    assert [c["id"] for c in request["options"]["allowCredentials"]] == [key.id]
    stepped = await client.post(
        f"{API}/step-up/passkey",
        headers=bearer(fresh),
        json={"flow": request["flow"], "credential": key.get(request["options"])},
    )
    assert stepped.status_code == 200, stepped.text
    assert stepped.json()["step_up_until"] is not None
    # Stepped up, /me names whom the passkey signed in.
    assert (await client.get(f"{API}/me", headers=bearer(fresh))).json()["name"] == "李明"
    security = await client.get(f"{API}/security", headers=bearer(fresh))
    assert security.status_code == 200
    assert [k["id"] for k in security.json()["passkeys"]] == [added.json()["id"]]
    assert (await client.get(f"{API}/security", headers=bearer(token))).status_code == 403

    await session.rollback()
    stored = (await session.execute(select(Passkey.sign_count, Passkey.last_used_at))).one()
    kinds = (
        await session.execute(
            select(SecurityEvent.kind, SecurityEvent.channel)
            .where(SecurityEvent.account_id == li.account_id)
            .order_by(SecurityEvent.id)
        )
    ).all()
    await session.rollback()
    # The authenticator's counter is kept: 1 at creation, 2 at sign-in, 3 at step-up.
    assert stored.sign_count == key.counter == 3 and stored.last_used_at is not None
    events = [tuple(k) for k in kinds]
    assert ("passkey_added", "bearer") in events
    assert [k for k in events if k[1] == "bearer"][-1] == ("step_up_ok", "bearer")

    # Removing it needs the step-up too, and then the passkey no longer signs in.
    removed = await client.delete(f"{API}/passkeys/{added.json()['id']}", headers=bearer(fresh))
    assert removed.status_code == 204
    assert (await client.get(f"{API}/passkeys", headers=bearer(fresh))).json() == {"passkeys": []}
    refused = await passkey_token(client, key)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "passkey_rejected"
    assert "未登记" in refused.json()["error"]["message"]


async def test_a_replayed_challenge_is_refused(client: httpx.AsyncClient, li: Member) -> None:
    key = SoftwarePasskey()
    token = await token_for(client, li.phone)
    assert (await register(client, token, key)).status_code == 201
    offered = await options(client, f"{API}/tokens/passkey/options")
    answer = {"flow": offered["flow"], "credential": key.get(offered["options"])}
    first = await client.post(f"{API}/tokens/passkey", json=answer)
    assert first.status_code == 201
    replayed = await client.post(f"{API}/tokens/passkey", json=answer)
    assert replayed.status_code == 422
    assert replayed.json()["error"] == {
        "code": "passkey_rejected",
        "message": "本次通行密钥验证已失效（超时或已用过），请重新验证",
    }
    # The same signed answer under a new flow: its challenge is not that flow's challenge.
    other = await options(client, f"{API}/tokens/passkey/options")
    moved = await client.post(
        f"{API}/tokens/passkey", json={"flow": other["flow"], "credential": answer["credential"]}
    )
    assert moved.status_code == 422 and moved.json()["error"]["code"] == "passkey_rejected"
    # A registration answer cannot be replayed either (and the key is not added twice).
    reg = await options(client, f"{API}/passkeys/options", token)
    created = {"flow": reg["flow"], "credential": SoftwarePasskey().create(reg["options"])}
    assert (
        await client.post(f"{API}/passkeys", headers=bearer(token), json=created)
    ).status_code == 201
    twice = await client.post(f"{API}/passkeys", headers=bearer(token), json=created)
    assert twice.status_code == 422
    listed = (await client.get(f"{API}/passkeys", headers=bearer(token))).json()["passkeys"]
    assert len(listed) == 2


async def test_racing_answers_to_one_challenge_make_one_token(
    client: httpx.AsyncClient, li: Member
) -> None:
    key = SoftwarePasskey()
    assert (await register(client, await token_for(client, li.phone), key)).status_code == 201
    offered = await options(client, f"{API}/tokens/passkey/options")
    answer = {"flow": offered["flow"], "credential": key.get(offered["options"])}
    results = await asyncio.gather(
        *(client.post(f"{API}/tokens/passkey", json=answer) for _ in range(3))
    )
    assert sorted(r.status_code for r in results) == [201, 422, 422]


async def test_one_person_cannot_reach_anothers_passkeys(
    client: httpx.AsyncClient, li: Member, wang: Member, session: AsyncSession
) -> None:
    li_key, wang_key = SoftwarePasskey(), SoftwarePasskey()
    li_token = await token_for(client, li.phone)
    wang_token = await token_for(client, wang.phone)
    li_id = (await register(client, li_token, li_key)).json()["id"]
    wang_id = (await register(client, wang_token, wang_key)).json()["id"]

    listed = (await client.get(f"{API}/passkeys", headers=bearer(li_token))).json()["passkeys"]
    assert [k["id"] for k in listed] == [li_id]

    # Step up with 王芳's passkey on 李明's session: refused, and 李明 is not stepped up.
    request = await options(client, f"{API}/step-up/passkey/options", li_token)
    assert [c["id"] for c in request["options"]["allowCredentials"]] == [li_key.id]
    borrowed = await client.post(
        f"{API}/step-up/passkey",
        headers=bearer(li_token),
        json={"flow": request["flow"], "credential": wang_key.get(request["options"])},
    )
    assert borrowed.status_code == 422 and borrowed.json()["error"]["code"] == "passkey_rejected"
    assert (await client.get(f"{API}/security", headers=bearer(li_token))).status_code == 403

    # 李明 steps up properly, then tries to delete 王芳's passkey: 404, like one that never was.
    request = await options(client, f"{API}/step-up/passkey/options", li_token)
    own = await client.post(
        f"{API}/step-up/passkey",
        headers=bearer(li_token),
        json={"flow": request["flow"], "credential": li_key.get(request["options"])},
    )
    assert own.status_code == 200
    theirs = await client.delete(f"{API}/passkeys/{wang_id}", headers=bearer(li_token))
    missing = await client.delete(f"{API}/passkeys/99999999", headers=bearer(li_token))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()

    # A registration flow started by 李明 cannot be finished by 王芳 (the flow names its account).
    started = await options(client, f"{API}/passkeys/options", li_token)
    hijack = await client.post(
        f"{API}/passkeys",
        headers=bearer(wang_token),
        json={"flow": started["flow"], "credential": SoftwarePasskey().create(started["options"])},
    )
    assert hijack.status_code == 422 and hijack.json()["error"]["code"] == "passkey_rejected"

    # 王芳's passkey signs in 王芳, never 李明.
    wang_again = (await passkey_token(client, wang_key)).json()["token"]
    card = {"method": "card_password", "card_password": CARD_PASSWORD}
    stepped = await client.post(f"{API}/step-up", headers=bearer(wang_again), json=card)
    assert stepped.status_code == 200  # /me names the person only after a step-up
    assert (await client.get(f"{API}/me", headers=bearer(wang_again))).json()["name"] == "王芳"
    await session.rollback()
    owners = dict((await session.execute(select(Passkey.id, Passkey.account_id))).all())
    await session.rollback()
    assert owners == {li_id: li.account_id, wang_id: wang.account_id}


async def test_passkey_routes_need_a_bearer_token(client: httpx.AsyncClient, li: Member) -> None:
    for method, path in [
        ("GET", "/passkeys"),
        ("POST", "/passkeys/options"),
        ("POST", "/passkeys"),
        ("POST", "/step-up/passkey/options"),
        ("POST", "/step-up/passkey"),
        ("DELETE", "/passkeys/1"),
    ]:
        response = await client.request(method, API + path, json={})
        assert response.status_code == 401, (path, response.text)
        assert response.json()["error"]["code"] == "unauthenticated"
    token = await token_for(client, li.phone, PASSWORD)
    none_yet = await client.post(f"{API}/step-up/passkey/options", headers=bearer(token))
    assert none_yet.status_code == 422
    assert "还没有添加通行密钥" in none_yet.json()["error"]["message"]


async def test_bad_passkey_answers_are_refused_in_words(
    client: httpx.AsyncClient, li: Member, session: AsyncSession
) -> None:
    token = await token_for(client, li.phone)
    key = SoftwarePasskey()
    offered = await options(client, f"{API}/passkeys/options", token)
    good = key.create(offered["options"])
    shapeless = await client.post(
        f"{API}/passkeys",
        headers=bearer(token),
        json={"flow": offered["flow"], "credential": {"id": "not base64!", "type": "password"}},
    )
    assert shapeless.status_code == 422 and shapeless.json()["error"]["message"] == "请求参数有误"
    fields = {p["field"] for p in shapeless.json()["error"]["fields"]}
    assert {"credential.id", "credential.type", "credential.rawId"} <= fields
    # Well-formed but not a real attestation: refused in Chinese, nothing stored, no 500.
    forged = dict(good, response=dict(good["response"], attestationObject=b64url(b"\xa0")))
    refused = await client.post(
        f"{API}/passkeys",
        headers=bearer(token),
        json={"flow": offered["flow"], "credential": forged},
    )
    assert refused.status_code == 422
    assert refused.json()["error"] == {
        "code": "passkey_rejected",
        "message": "通行密钥登记未通过，请重试",
    }
    # A challenge from another origin (a phishing site) is refused too.
    offered = await options(client, f"{API}/passkeys/options", token)
    phished = SoftwarePasskey(origin="https://yibao.example.evil").create(offered["options"])
    wrong_site = await client.post(
        f"{API}/passkeys",
        headers=bearer(token),
        json={"flow": offered["flow"], "credential": phished},
    )
    assert wrong_site.status_code == 422
    await session.rollback()
    assert (await session.execute(select(Passkey))).first() is None
    await session.rollback()
    # An unknown flow id.
    unknown = await client.post(
        f"{API}/tokens/passkey",
        json={"flow": "nope", "credential": key.get({"challenge": "AAAA", "rpId": "testserver"})},
    )
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "passkey_rejected"


async def test_the_password_lockout_does_not_hold_a_passkey_back(
    client: httpx.AsyncClient, li: Member
) -> None:
    """Nothing to guess with a passkey: wrong passwords by someone else keep the owner out of
    nothing (docs/identity.md, the lockout)."""
    key = SoftwarePasskey()
    assert (await register(client, await token_for(client, li.phone), key)).status_code == 201
    for _ in range(5):
        await client.post(f"{API}/tokens", json={"identifier": li.phone, "password": "Wrong#1234"})
    held = await client.post(f"{API}/tokens", json={"identifier": li.phone, "password": PASSWORD})
    assert held.status_code == 401
    signed_in = await passkey_token(client, key)
    assert signed_in.status_code == 201, signed_in.text


async def test_openapi_documents_the_passkey_routes(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/v1/openapi.json")).json()
    paths = spec["paths"]
    expected = {
        ("/api/v1/auth/passkeys", "get"): "PasskeyListOut",
        ("/api/v1/auth/passkeys/options", "post"): "PasskeyOptionsOut",
        ("/api/v1/auth/passkeys", "post"): "PasskeyOut",
        ("/api/v1/auth/tokens/passkey/options", "post"): "PasskeyOptionsOut",
        ("/api/v1/auth/tokens/passkey", "post"): "TokenOut",
        ("/api/v1/auth/step-up/passkey/options", "post"): "PasskeyOptionsOut",
        ("/api/v1/auth/step-up/passkey", "post"): "StepUpOut",
    }
    for (path, method), model in expected.items():
        answers = paths[path][method]["responses"]
        ok = answers.get("200") or answers.get("201")
        assert ok["content"]["application/json"]["schema"]["$ref"].endswith(model), path
    assert "/api/v1/auth/passkeys/{passkey_id}" in paths
    credential = spec["components"]["schemas"]["AuthenticationCredentialIn"]["properties"]
    assert {"id", "rawId", "type", "response"} <= set(credential)


async def test_a_shapeless_answer_on_the_page_flow_is_refused_not_a_crash(
    client: httpx.AsyncClient, li: Member
) -> None:
    await post_form(client, "/login", identifier=li.phone, password=PASSWORD)
    headers = {"X-CSRF-Token": await csrf_token(client), "Accept": "application/json"}
    offered = await client.post("/passkeys/options", headers=headers)
    assert offered.status_code == 200
    answer = await client.post(
        "/passkeys", headers=headers, json={"flow": offered.json()["flow"], "credential": {}}
    )
    assert answer.status_code == 422
    assert answer.json()["error"] == {
        "code": "passkey_rejected",
        "message": "通行密钥登记未通过，请重试",
    }
