"""Partner apps for tests: one registered by the operator, and a person's grant with tokens
obtained through the same use cases the consent page and the token endpoint call."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass

from yibao.partners.domain import SCOPES, IssuedTokens
from yibao.partners.service import authorise, registry
from yibao.runtime import Runtime

REDIRECT = "https://partner.example/callback"


@dataclass
class App:
    client_id: str
    secret: str
    name: str


async def app(
    runtime: Runtime,
    *,
    name: str = "支付宝",
    scopes: list[str] | None = None,
    rate_limit: int = 60,
    redirect_uris: list[str] | None = None,
    public_keys: str | None = None,
) -> App:
    async with runtime.sessions() as s:
        credentials = await registry.add_partner(
            s,
            runtime.clock,
            registry.Registration(
                name=name,
                company=f"{name}（中国）网络技术有限公司",
                redirect_uris=redirect_uris or [REDIRECT],
                scopes=scopes or list(SCOPES),
                rate_limit_per_minute=rate_limit,
                public_keys=public_keys,
            ),
        )
    return App(credentials.partner.client_id, credentials.client_secret, name)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def params(
    partner: App, challenge: str, scope: str = "", state: str = "st"
) -> authorise.AuthorisationParams:
    return authorise.AuthorisationParams(
        client_id=partner.client_id,
        redirect_uri=REDIRECT,
        response_type="code",
        scope=scope,
        state=state,
        code_challenge=challenge,
        code_challenge_method="S256",
    )


async def code_for(
    runtime: Runtime, partner: App, person_id: int, ticked: list[str] | None = None
) -> tuple[str, str]:
    """The person approves; returns (code, verifier)."""
    verifier, challenge = pkce()
    async with runtime.sessions() as s:
        _, code = await authorise.approve_consent(
            s, runtime.clock, person_id, params(partner, challenge), ticked or list(SCOPES)
        )
    return code, verifier


async def tokens_for(
    runtime: Runtime, partner: App, person_id: int, ticked: list[str] | None = None
) -> IssuedTokens:
    code, verifier = await code_for(runtime, partner, person_id, ticked)
    async with runtime.sessions() as s:
        client = await authorise.authenticate_client(s, partner.client_id, partner.secret)
        return await authorise.exchange_code(
            s, runtime.clock, client, code=code, redirect_uri=REDIRECT, code_verifier=verifier
        )
