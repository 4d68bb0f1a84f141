"""Errors of the partner API as RFC 9457 problem details (`application/problem+json`), and the
OAuth 2.0 token endpoints' own error body (RFC 6749 §5.2).

The open API answers in the ecosystem's conventions rather than yibao's own `{"error": …}`; the
one error table (web/errors.py) hands every error on a partner path here. Nothing in a problem
names a person, a token or why a token failed beyond the standard code.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from yibao.kernel.errors import DomainError
from yibao.partners.domain import InsufficientScope, InvalidClient, OAuthError

OPEN_PREFIX = "/open/"
PROBLEM_TYPE = "application/problem+json"

# RFC 6749 §5.2 limits error_description to printable ASCII: one fixed sentence per error.
OAUTH_DESCRIPTIONS = {
    "invalid_request": "The request is missing a parameter or is malformed.",
    "invalid_client": "Client authentication failed.",
    "invalid_grant": "The authorization code or refresh token is invalid or expired.",
    "unauthorized_client": "The client may not use this grant type.",
    "unsupported_grant_type": "Only authorization_code and refresh_token are supported.",
    "invalid_scope": "The requested scope is invalid or exceeds what was granted.",
    "invalid_token": "The access token is invalid or expired.",
}


def is_open_path(request: Request) -> bool:
    return request.url.path.startswith(OPEN_PREFIX)


def problem(
    status: int,
    detail: str,
    *,
    code: str,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        **(extra or {}),
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_TYPE)


def bearer_challenge(exc: DomainError) -> dict[str, str]:
    """RFC 6750 §3: the WWW-Authenticate a refused bearer token gets."""
    if isinstance(exc, InsufficientScope):
        scope = str(exc.details.get("scope", ""))
        return {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'}
    if isinstance(exc, OAuthError):
        return {"WWW-Authenticate": f'Bearer error="{exc.error}"'}
    return {}


def oauth_error(exc: OAuthError) -> JSONResponse:
    """RFC 6749 §5.2: 400, or 401 with a Basic challenge when the client failed to authenticate."""
    invalid_client = isinstance(exc, InvalidClient)
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if invalid_client:
        headers["WWW-Authenticate"] = 'Basic realm="yibao"'
    return JSONResponse(
        {"error": exc.error, "error_description": OAUTH_DESCRIPTIONS.get(exc.error, "")},
        status_code=401 if invalid_client else 400,
        headers=headers,
    )
