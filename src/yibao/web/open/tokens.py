"""The endpoints a partner's server calls: token (RFC 6749 §3.2, with PKCE), revocation
(RFC 7009), introspection (RFC 7662) and the server's metadata (RFC 8414).

Each authenticates the partner (client_secret_basic, client_secret_post, or private_key_jwt with
the public keys it registered) before anything else
and answers refusals with the standard OAuth error body only.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any
from urllib.parse import unquote_plus

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import FormData

from yibao.partners.domain import (
    SCOPES,
    InvalidClient,
    InvalidRequest,
    OAuthError,
    UnsupportedGrantType,
)
from yibao.partners.service import assertions, authorise
from yibao.partners.tables import Partner
from yibao.web.deps import RuntimeDep, SessionDep
from yibao.web.open.problems import oauth_error

router = APIRouter(include_in_schema=False)

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]


async def _form(request: Request) -> FormData:
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        raise InvalidRequest("请求须为 application/x-www-form-urlencoded")
    return await request.form(max_files=0, max_fields=20)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value[:2000] if isinstance(value, str) else ""


def client_credentials(request: Request, form: FormData) -> tuple[str, str]:
    """HTTP Basic with form-encoded id and secret (RFC 6749 §2.3.1), or both in the body."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise InvalidClient("客户端认证失败") from exc
        client_id, sep, secret = decoded.partition(":")
        if not sep or _text(form, "client_secret"):
            raise InvalidClient("客户端认证失败")
        return unquote_plus(client_id), unquote_plus(secret)
    return _text(form, "client_id"), _text(form, "client_secret")


async def _client(
    request: Request, runtime: RuntimeDep, session: SessionDep
) -> tuple[Partner, FormData]:
    form = await _form(request)
    if _text(form, "client_assertion_type") == assertions.ASSERTION_TYPE:
        base = str(request.base_url).rstrip("/")
        partner = await assertions.authenticate_with_assertion(
            session,
            runtime.ephemeral,
            runtime.clock,
            _text(form, "client_assertion"),
            audiences=[f"{base}{request.url.path}", f"{base}/oauth/token", base],
        )
        return partner, form
    client_id, secret = client_credentials(request, form)
    return await authorise.authenticate_client(session, client_id, secret), form


@router.post("/oauth/token")
async def token(request: Request, runtime: RuntimeDep, session: SessionDep) -> Response:
    try:
        partner, form = await _client(request, runtime, session)
        grant_type = _text(form, "grant_type")
        if grant_type == "authorization_code":
            issued = await authorise.exchange_code(
                session,
                runtime.clock,
                partner,
                code=_text(form, "code"),
                redirect_uri=_text(form, "redirect_uri"),
                code_verifier=_text(form, "code_verifier"),
            )
        elif grant_type == "refresh_token":
            issued = await authorise.refresh(
                session,
                runtime.clock,
                partner,
                refresh_token=_text(form, "refresh_token"),
                scope=_text(form, "scope") or None,
            )
        else:
            raise UnsupportedGrantType("不支持的 grant_type")
    except OAuthError as exc:
        await session.rollback()
        return oauth_error(exc)
    return JSONResponse(
        {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "refresh_token": issued.refresh_token,
            "scope": issued.scope,
        },
        headers=NO_STORE,
    )


@router.post("/oauth/revoke")
async def revoke(request: Request, runtime: RuntimeDep, session: SessionDep) -> Response:
    try:
        partner, form = await _client(request, runtime, session)
        await authorise.revoke_token(session, runtime.clock, partner, _text(form, "token"))
    except OAuthError as exc:
        await session.rollback()
        return oauth_error(exc)
    return Response(status_code=200, headers=NO_STORE)


@router.post("/oauth/introspect")
async def introspect(request: Request, runtime: RuntimeDep, session: SessionDep) -> Response:
    try:
        partner, form = await _client(request, runtime, session)
        answer = await authorise.introspect(session, runtime.clock, partner, _text(form, "token"))
    except OAuthError as exc:
        await session.rollback()
        return oauth_error(exc)
    return JSONResponse(answer, headers=NO_STORE)


def metadata(base: str) -> dict[str, Any]:
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "introspection_endpoint": f"{base}/oauth/introspect",
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "introspection_endpoint_auth_methods_supported": AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_signing_alg_values_supported": assertions.ALGORITHMS,
        "revocation_endpoint_auth_signing_alg_values_supported": assertions.ALGORITHMS,
        "introspection_endpoint_auth_signing_alg_values_supported": assertions.ALGORITHMS,
        "service_documentation": f"{base}/open/v1/openapi.json",
        "ui_locales_supported": ["zh-CN", "en"],
    }


@router.get("/.well-known/oauth-authorization-server")
async def server_metadata(request: Request) -> JSONResponse:
    return JSONResponse(metadata(str(request.base_url).rstrip("/")))
