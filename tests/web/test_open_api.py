"""The open API over HTTP: the consent page, the token endpoints and /open/v1, as a partner's
server and a person's browser use them, and each attack of issue #19 refused with the standard
error and nothing disclosed."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import partners as support
from tests.support.identity import CARD_PASSWORD, PASSWORD, Member, member, stepped_up_bearer
from tests.web.identity_client import hidden, post_form
from yibao.audit.tables import AuditRecord
from yibao.kernel.clock import FixedClock
from yibao.runtime import Runtime

REDIRECT = support.REDIRECT


@pytest.fixture
async def person(runtime: Runtime, session: AsyncSession) -> Member:
    runtime.clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    someone = await member(runtime, session, name="王小芳")
    await session.commit()
    return someone


async def sign_in(client: httpx.AsyncClient, someone: Member) -> None:
    """As a browser: the password form, then the card password to step up."""
    answer = await post_form(client, "/login", identifier=someone.phone, password=PASSWORD)
    assert answer.status_code == 303, answer.text
    answer = await post_form(client, "/verify/card-password", card_password=CARD_PASSWORD)
    assert answer.status_code == 303, answer.text


def authorize_query(app: support.App, challenge: str, **over: str) -> dict[str, str]:
    return {
        "client_id": app.client_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "balance records family",
        "state": "xyz-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **over,
    }


def basic(app: support.App) -> dict[str, str]:
    raw = f"{app.client_id}:{app.secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


async def consent(
    client: httpx.AsyncClient, app: support.App, ticked: list[str]
) -> tuple[str, str]:
    """The person approves `ticked` on the consent page; returns (code, verifier)."""
    verifier, challenge = support.pkce()
    page = await client.get("/oauth/authorize", params=authorize_query(app, challenge))
    assert page.status_code == 200, page.text
    fields = {
        name: hidden(page.text, name)
        for name in ("client_id", "redirect_uri", "response_type", "state", "code_challenge",
                     "code_challenge_method", "requested", "csrf_token")
    }  # fmt: skip
    answer = await client.post(
        "/oauth/authorize", data={**fields, "scope": ticked, "decision": "approve"}
    )
    assert answer.status_code == 303, answer.text
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["xyz-123"]
    return query["code"][0], verifier


async def exchange(
    client: httpx.AsyncClient, app: support.App, code: str, verifier: str | None
) -> httpx.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    if verifier is not None:
        form["code_verifier"] = verifier
    return await client.post("/oauth/token", data=form, headers=basic(app))


async def tokens(
    client: httpx.AsyncClient, app: support.App, someone: Member, ticked: list[str]
) -> dict[str, Any]:
    await sign_in(client, someone)
    code, verifier = await consent(client, app, ticked)
    answer = await exchange(client, app, code, verifier)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body: dict[str, Any] = answer.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def is_problem(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["status"] == status and body["code"] == code and body["title"]


async def test_consent_approve_read_and_revoke(
    client: httpx.AsyncClient, runtime: Runtime, person: Member
) -> None:
    app = await support.app(runtime)
    # Not signed in: the consent page sends the person to sign in and back.
    verifier, challenge = support.pkce()
    first = await client.get("/oauth/authorize", params=authorize_query(app, challenge))
    assert first.status_code == 303 and first.headers["location"].startswith("/login?next=")
    await sign_in(client, person)
    page = await client.get("/oauth/authorize", params=authorize_query(app, challenge))
    assert "支付宝" in page.text and "家庭共济" in page.text and "180" in page.text
    assert "form-action 'self' https://partner.example" in page.headers["content-security-policy"]
    issued = await tokens(client, app, person, ["balance", "records"])
    assert issued["scope"] == "balance records" and issued["expires_in"] <= 600
    auth = bearer(issued["access_token"])
    balance = await client.get("/open/v1/balance", headers=auth)
    assert balance.status_code == 200, balance.text
    assert balance.json()["name"] == "王**"  # masked
    assert "*" in balance.json()["psn_no"]
    assert (await client.get("/open/v1/consumption", headers=auth)).status_code == 200
    assert (await client.get("/open/v1/contributions", headers=auth)).status_code == 200
    refused = await client.get("/open/v1/family", headers=auth)
    is_problem(refused, 403, "insufficient_scope")
    assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]
    # The person sees the reads on 查询记录 and the grant on 已授权的应用.
    lookups = await client.get("/me/lookups")
    assert "支付宝 读取了你的账户余额" in lookups.text
    assert "支付宝 读取了你的消费记录" in lookups.text
    apps = await client.get("/me/apps")
    assert "支付宝" in apps.text and "账户余额" in apps.text and "尚未读取" not in apps.text
    grant_id = apps.text.split('action="/me/apps/')[1].split("/revoke")[0]
    revoked = await post_form(client, f"/me/apps/{grant_id}/revoke")
    assert revoked.status_code == 303
    is_problem(await client.get("/open/v1/balance", headers=auth), 401, "invalid_token")
    refreshed = await client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]},
        headers=basic(app),
    )
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"


async def test_a_grant_idle_180_days_is_refused_swept_and_shown_ended(
    client: httpx.AsyncClient, runtime: Runtime, person: Member
) -> None:
    from yibao.notifications import service as delivery
    from yibao.partners.domain import GRANT_IDLE_LIMIT
    from yibao.partners.service import access

    class _NoSms:
        async def send(self, phone: str, text: str) -> None:
            return None

    app = await support.app(runtime)
    issued = await tokens(client, app, person, ["balance"])
    assert isinstance(runtime.clock, FixedClock)
    runtime.clock.advance(GRANT_IDLE_LIMIT)
    refreshed = await client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]},
        headers=basic(app),
    )
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
    async with runtime.sessions() as s:
        assert await access.sweep_idle_grants(s, runtime.clock) == 1
        await delivery.deliver_due(s, runtime.clock, runtime.cipher, _NoSms())  # the worker
    await sign_in(client, person)
    apps = await client.get("/me/apps")
    assert 'data-testid="grant"' not in apps.text
    ended = apps.text.split('data-testid="ended-grant"')[1].split("</li>")[0]
    assert "支付宝" in ended and "超过180天未使用，已自动失效" in ended
    messages = await client.get("/messages")
    assert "应用授权已到期" in messages.text


async def test_the_person_may_refuse(
    client: httpx.AsyncClient, runtime: Runtime, person: Member
) -> None:
    app = await support.app(runtime)
    await sign_in(client, person)
    _, challenge = support.pkce()
    page = await client.get("/oauth/authorize", params=authorize_query(app, challenge))
    fields = {n: hidden(page.text, n) for n in ("client_id", "redirect_uri", "state",
              "code_challenge", "code_challenge_method", "requested", "csrf_token")}  # fmt: skip
    answer = await client.post(
        "/oauth/authorize", data={**fields, "response_type": "code", "decision": "deny"}
    )
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query == {"error": ["access_denied"], "state": ["xyz-123"]}


@pytest.mark.parametrize(
    "redirect",
    [
        "https://evil.example/callback",
        "https://partner.example/callback/../../evil",
        "https://partner.example/callback.evil.example",
        "https://partner.example/callback?next=https://evil.example",
        "//evil.example/callback",
        "",
    ],
)
async def test_an_unregistered_redirect_is_never_followed(
    client: httpx.AsyncClient, runtime: Runtime, person: Member, redirect: str
) -> None:
    app = await support.app(runtime)
    await sign_in(client, person)
    _, challenge = support.pkce()
    answer = await client.get(
        "/oauth/authorize", params=authorize_query(app, challenge, redirect_uri=redirect)
    )
    assert answer.status_code == 400 and "location" not in answer.headers
    # No link or form leads off the site (the language switch keeps this page's own path).
    assert '="https://' not in answer.text and '="//' not in answer.text


async def test_unknown_or_suspended_clients_get_no_redirect(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    _, challenge = support.pkce()
    fake = support.App("yb_unknown", "x", "x")
    answer = await client.get("/oauth/authorize", params=authorize_query(fake, challenge))
    assert answer.status_code == 400 and "location" not in answer.headers


@pytest.mark.parametrize(
    "over",
    [
        {"code_challenge": ""},
        {"code_challenge_method": "plain"},
        {"code_challenge_method": ""},
        {"response_type": "token"},
        {"scope": "balance admin"},
    ],
)
async def test_requests_without_s256_pkce_go_back_with_an_error(
    client: httpx.AsyncClient, runtime: Runtime, over: dict[str, str]
) -> None:
    app = await support.app(runtime)
    _, challenge = support.pkce()
    answer = await client.get("/oauth/authorize", params=authorize_query(app, challenge, **over))
    assert answer.status_code == 303
    location = urlsplit(answer.headers["location"])
    assert location.netloc == "partner.example"
    query = parse_qs(location.query)
    assert query["error"][0] in {"invalid_request", "unsupported_response_type", "invalid_scope"}
    assert "code" not in query


async def test_wrong_missing_verifier_and_reused_code_are_refused(
    client: httpx.AsyncClient, runtime: Runtime, person: Member
) -> None:
    app = await support.app(runtime)
    await sign_in(client, person)
    code, verifier = await consent(client, app, ["balance"])
    for given in (None, "", support.pkce()[0]):
        answer = await exchange(client, app, code, given)
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
        assert set(answer.json()) == {"error", "error_description"}
    issued = await exchange(client, app, code, verifier)
    assert issued.status_code == 200
    auth = bearer(issued.json()["access_token"])
    assert (await client.get("/open/v1/balance", headers=auth)).status_code == 200
    again = await exchange(client, app, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # The tokens the code gave are revoked.
    is_problem(await client.get("/open/v1/balance", headers=auth), 401, "invalid_token")


async def test_expired_and_revoked_tokens_are_401(
    client: httpx.AsyncClient, runtime: Runtime, person: Member
) -> None:
    app = await support.app(runtime)
    issued = await tokens(client, app, person, ["balance"])
    clock = runtime.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(minutes=10, seconds=1))
    is_problem(
        await client.get("/open/v1/balance", headers=bearer(issued["access_token"])),
        401,
        "invalid_token",
    )
    fresh = (
        await client.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]},
            headers=basic(app),
        )
    ).json()
    auth = bearer(fresh["access_token"])
    assert (await client.get("/open/v1/balance", headers=auth)).status_code == 200
    revoked = await client.post(
        "/oauth/revoke", data={"token": fresh["refresh_token"]}, headers=basic(app)
    )
    assert revoked.status_code == 200
    is_problem(await client.get("/open/v1/balance", headers=auth), 401, "invalid_token")
    introspected = await client.post(
        "/oauth/introspect", data={"token": fresh["access_token"]}, headers=basic(app)
    )
    assert introspected.json() == {"active": False}


async def test_partner_b_cannot_use_partner_a_s_tokens(
    client: httpx.AsyncClient, runtime: Runtime, person: Member
) -> None:
    a = await support.app(runtime)
    b = await support.app(runtime, name="微信")
    issued = await tokens(client, a, person, ["balance"])
    stolen = await client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]},
        headers=basic(b),
    )
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    peek = await client.post(
        "/oauth/introspect", data={"token": issued["access_token"]}, headers=basic(b)
    )
    assert peek.json() == {"active": False}
    # B's revocation of A's token does nothing (and says nothing).
    await client.post("/oauth/revoke", data={"token": issued["access_token"]}, headers=basic(b))
    auth = bearer(issued["access_token"])
    assert (await client.get("/open/v1/balance", headers=auth)).status_code == 200
    wrong_secret = await client.post(
        "/oauth/introspect",
        data={"token": issued["access_token"]},
        headers=basic(support.App(a.client_id, b.secret, "x")),
    )
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    own = await client.post(
        "/oauth/introspect", data={"token": issued["access_token"]}, headers=basic(a)
    )
    assert own.json()["active"] is True and own.json()["scope"] == "balance"


async def test_tokens_do_not_cross_between_the_person_api_and_the_open_api(
    client: httpx.AsyncClient, runtime: Runtime, person: Member
) -> None:
    app = await support.app(runtime)
    issued = await tokens(client, app, person, ["balance"])
    own = await stepped_up_bearer(client, person.phone)
    is_problem(await client.get("/open/v1/balance", headers=own), 401, "invalid_token")
    partner_on_api = await client.get("/api/v1/account", headers=bearer(issued["access_token"]))
    assert partner_on_api.status_code == 401
    is_problem(await client.get("/open/v1/balance"), 401, "invalid_token")


async def test_the_consent_form_needs_its_csrf_token(
    client: httpx.AsyncClient, runtime: Runtime, person: Member
) -> None:
    app = await support.app(runtime)
    await sign_in(client, person)
    _, challenge = support.pkce()
    query = authorize_query(app, challenge)
    forged = {**query, "requested": query["scope"], "scope": ["balance"], "decision": "approve"}
    for token in ("", "forged-token-0123456789abcdef"):
        answer = await client.post("/oauth/authorize", data={**forged, "csrf_token": token})
        assert answer.status_code == 403 and "location" not in answer.headers
    async with runtime.sessions() as s:
        from yibao.partners.tables import PartnerCode

        assert (await s.execute(select(func.count()).select_from(PartnerCode))).scalar_one() == 0


async def test_the_rate_limit_answers_429_with_retry_after(
    client: httpx.AsyncClient, runtime: Runtime, person: Member
) -> None:
    app = await support.app(runtime, rate_limit=2)
    issued = await tokens(client, app, person, ["balance"])
    auth = bearer(issued["access_token"])
    for _ in range(2):
        assert (await client.get("/open/v1/balance", headers=auth)).status_code == 200
    refused = await client.get("/open/v1/balance", headers=auth)
    is_problem(refused, 429, "rate_limited")
    assert 0 < int(refused.headers["retry-after"]) <= 60
    async with runtime.sessions() as s:
        reads = (
            await s.execute(
                select(func.count())
                .select_from(AuditRecord)
                .where(AuditRecord.action == "partner.read")
            )
        ).scalar_one()
    assert reads == 2  # refused calls read nothing


async def test_metadata_and_the_open_api_document(client: httpx.AsyncClient) -> None:
    meta = (await client.get("/.well-known/oauth-authorization-server")).json()
    assert meta["code_challenge_methods_supported"] == ["S256"]
    https = {
        k: v.replace("http://testserver", "https://yibao.example") if isinstance(v, str) else v
        for k, v in meta.items()
    }
    AuthorizationServerMetadata(https).validate()
    spec = (await client.get("/open/v1/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    assert spec["paths"] and all(p.startswith("/open/v1/") for p in spec["paths"])
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    own = (await client.get("/api/v1/openapi.json")).json()
    assert not [p for p in own["paths"] if p.startswith(("/open/", "/oauth"))]


async def test_a_partner_reads_only_the_person_who_granted(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """IDOR: a token for one person finds another person's settlement and claim as missing."""
    from tests.support.claims import two_people

    owner, intruder, entry_id = await two_people(runtime)
    app = await support.app(runtime)
    issued = await support.tokens_for(runtime, app, intruder, ["records", "claims"])
    auth = bearer(issued.access_token)
    theirs = await client.get("/open/v1/consumption/setl:X:own", headers=auth)
    missing = await client.get("/open/v1/consumption/no-such-settlement", headers=auth)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["detail"].replace("setl:X:own", "<asked>") == missing.json()[
        "detail"
    ].replace("no-such-settlement", "<asked>")
    mine = await support.tokens_for(runtime, app, owner, ["records"])
    owned = await client.get("/open/v1/consumption", headers=bearer(mine.access_token))
    assert [i["entry_id"] for i in owned.json()["items"]] == [entry_id]
    assert (await client.get("/open/v1/consumption", headers=auth)).json()["items"] == []
    assert (await client.get("/open/v1/claims/1", headers=auth)).status_code == 404


async def test_a_partner_may_authenticate_with_its_registered_key(
    client: httpx.AsyncClient, runtime: Runtime, person: Member
) -> None:
    """private_key_jwt: signed with the key whose public half was registered, once, for us."""
    import json
    import secrets

    from joserfc import jwt
    from joserfc.jwk import ECKey

    key, stranger = ECKey.generate_key("P-256"), ECKey.generate_key("P-256")
    keys = json.dumps({"keys": [key.as_dict(private=False)]})
    app = await support.app(runtime, public_keys=keys)
    now = int(runtime.clock.now().timestamp())

    def assertion(signer: ECKey, **over: Any) -> dict[str, str]:
        claims = {"iss": app.client_id, "sub": app.client_id, "exp": now + 120,
                  "aud": "http://testserver/oauth/token", "jti": secrets.token_hex(8), **over}  # fmt: skip
        return {
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": jwt.encode({"alg": "ES256"}, claims, signer),
        }

    await sign_in(client, person)
    code, verifier = await consent(client, app, ["balance"])
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": verifier}  # fmt: skip
    for bad in (
        assertion(stranger),
        assertion(key, aud="https://elsewhere.example/token"),
        assertion(key, exp=now - 1),
        assertion(key, exp=now + 3600),
        assertion(key, sub="yb_someone_else"),
    ):
        refused = await client.post("/oauth/token", data={**form, **bad})
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    good = assertion(key)
    issued = await client.post("/oauth/token", data={**form, **good})
    assert issued.status_code == 200, issued.text
    # The same assertion a second time (a replay) is refused.
    replay = await client.post(
        "/oauth/introspect", data={"token": issued.json()["access_token"], **good}
    )
    assert replay.status_code == 401
    fresh = await client.post(
        "/oauth/introspect", data={"token": issued.json()["access_token"], **assertion(key)}
    )
    assert fresh.json()["active"] is True
