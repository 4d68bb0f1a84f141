"""OAuth 2.0 authorisation code with PKCE (RFC 6749 §4.1, RFC 7636), refresh-token rotation,
revocation (RFC 7009) and introspection (RFC 7662).

The checks are yibao's own code over Authlib's S256 transform and its error vocabulary (see
docs/open-api.md for why Authlib's synchronous AuthorizationServer is not used as a whole). Every
refusal of the token endpoint says only `invalid_grant` or `invalid_client`, whatever the reason.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.kernel.clock import Clock
from yibao.kernel.ids import new_token
from yibao.partners import repository
from yibao.partners.domain import (
    ACCESS_TOKEN_TTL,
    CODE_TTL,
    REFRESH_TOKEN_TTL,
    ConsentRequest,
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    IssuedTokens,
    OAuthError,
    PartnerStatus,
    TokenKind,
    UnsupportedResponseType,
    check_code_challenge,
    check_code_verifier,
    chosen_scopes,
    grant_is_live,
    parse_scope,
    requested_scopes,
    scope_text,
)
from yibao.partners.service.registry import redirect_uris_of, secret_hash
from yibao.partners.tables import Partner, PartnerCode, PartnerGrant, PartnerToken


def s256(verifier: str) -> str:
    """BASE64URL(SHA256(verifier)), RFC 7636 §4.2 (the stubs leave Authlib's helper untyped)."""
    challenge: str = create_s256_code_challenge(verifier)  # type: ignore[no-untyped-call]
    return challenge


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AuthorisationParams:
    """The query of /oauth/authorize, as sent (the consent form carries it back unchanged)."""

    client_id: str = ""
    redirect_uri: str = ""
    response_type: str = ""
    scope: str = ""
    state: str = ""
    code_challenge: str = ""
    code_challenge_method: str = ""


class UntrustedRedirect(InvalidRequest):
    """Unknown client or unregistered redirect URI: shown on yibao's page, never redirected."""

    code = "oauth_untrusted_redirect"


def _redirectable(exc: OAuthError, redirect_uri: str, state: str) -> OAuthError:
    exc.details["redirect_uri"] = redirect_uri
    exc.details["state"] = state
    return exc


async def check_authorisation(
    session: AsyncSession, params: AuthorisationParams
) -> tuple[Partner, ConsentRequest]:
    """Client and redirect URI first: until both are known, nothing may be redirected."""
    partner = await repository.partner_by_client_id(session, params.client_id[:64])
    if partner is None or partner.status != PartnerStatus.ACTIVE:
        raise UntrustedRedirect("应用不存在或已停用")
    if params.redirect_uri not in redirect_uris_of(partner):
        raise UntrustedRedirect("回调地址与该应用登记的不一致")
    if len(params.state) > 500:
        raise UntrustedRedirect("state 过长")
    try:
        if params.response_type != "code":
            raise UnsupportedResponseType("只支持授权码模式（response_type=code）")
        challenge = check_code_challenge(params.code_challenge, params.code_challenge_method)
        scopes = requested_scopes(params.scope, partner.scopes.split())
    except OAuthError as exc:
        raise _redirectable(exc, params.redirect_uri, params.state) from None
    return partner, ConsentRequest(
        client_id=partner.client_id,
        partner_name=partner.name,
        company=partner.company,
        redirect_uri=params.redirect_uri,
        scopes=scopes,
        state=params.state,
        code_challenge=challenge,
    )


async def approve_consent(
    session: AsyncSession,
    clock: Clock,
    person_id: int,
    params: AuthorisationParams,
    ticked: list[str],
) -> tuple[ConsentRequest, str]:
    """The person approved (some of) the scopes: a new grant replaces any earlier one of this
    partner, and a one-minute code goes back to the partner. Returns the request and the code."""
    partner, request = await check_authorisation(session, params)
    try:
        scopes = chosen_scopes(request.scopes, ticked)
    except OAuthError as exc:
        raise _redirectable(exc, request.redirect_uri, request.state) from None
    now = clock.now()
    for old in await repository.open_grants_for(session, partner.id, person_id):
        old.revoked_at, old.revoked_reason = now, "replaced"
        await repository.revoke_grant_tokens(session, old.id, now)
    grant = PartnerGrant(
        partner_id=partner.id, person_id=person_id, scopes=scope_text(scopes), granted_at=now
    )
    await repository.add(session, grant)
    code = new_token(32)
    await repository.add(
        session,
        PartnerCode(
            code_hash=token_hash(code),
            grant_id=grant.id,
            partner_id=partner.id,
            redirect_uri=request.redirect_uri,
            code_challenge=request.code_challenge,
            family=secrets.token_hex(16),
            expires_at=now + CODE_TTL,
        ),
    )
    await session.commit()
    return request, code


async def authenticate_client(session: AsyncSession, client_id: str, secret: str) -> Partner:
    """client_secret_basic or client_secret_post (RFC 6749 §2.3.1); a suspended partner is no
    client at all."""
    partner = await repository.partner_by_client_id(session, client_id[:64]) if client_id else None
    given = secret_hash(secret)
    stored = partner.secret_hash if partner is not None and partner.secret_hash else "0" * 64
    if (
        partner is None
        or partner.status != PartnerStatus.ACTIVE
        or not hmac.compare_digest(given, stored)
    ):
        raise InvalidClient("客户端认证失败")
    return partner


async def _issue(
    session: AsyncSession, partner: Partner, grant: PartnerGrant, scopes: str, family: str,
    now: datetime,
) -> IssuedTokens:  # fmt: skip
    access, refresh = new_token(32), new_token(32)
    for token, kind, ttl in (
        (access, TokenKind.ACCESS, ACCESS_TOKEN_TTL),
        (refresh, TokenKind.REFRESH, REFRESH_TOKEN_TTL),
    ):
        session.add(
            PartnerToken(
                token_hash=token_hash(token),
                kind=kind.value,
                partner_id=partner.id,
                grant_id=grant.id,
                family=family,
                scopes=scopes,
                issued_at=now,
                expires_at=now + ttl,
            )
        )
    await session.flush()
    return IssuedTokens(
        access_token=access,
        refresh_token=refresh,
        expires_in=int(ACCESS_TOKEN_TTL.total_seconds()),
        scope=scopes,
    )


async def _live_grant(session: AsyncSession, grant_id: int, now: datetime) -> PartnerGrant:
    grant = await repository.grant_by_id(session, grant_id)
    if grant is None or not grant_is_live(
        grant.granted_at, grant.last_used_at, grant.revoked_at, now
    ):
        raise InvalidGrant("授权已失效")
    return grant


async def exchange_code(
    session: AsyncSession,
    clock: Clock,
    partner: Partner,
    *,
    code: str,
    redirect_uri: str,
    code_verifier: str,
) -> IssuedTokens:
    now = clock.now()
    found = await repository.code_by_hash(session, token_hash(code)) if code else None
    if found is None or found.partner_id != partner.id:
        raise InvalidGrant("授权码无效或已过期")
    if found.used_at is not None:
        # RFC 6749 §4.1.2: a code used twice was stolen or replayed; what it gave is revoked.
        await repository.revoke_family(session, found.family, now)
        await session.commit()
        raise InvalidGrant("授权码无效或已过期")
    verifier = check_code_verifier(code_verifier)
    if (
        found.expires_at <= now
        or found.redirect_uri != redirect_uri
        or not hmac.compare_digest(s256(verifier), found.code_challenge)
    ):
        raise InvalidGrant("授权码无效或已过期")
    grant = await _live_grant(session, found.grant_id, now)
    found.used_at = now
    tokens = await _issue(session, partner, grant, grant.scopes, found.family, now)
    await session.commit()
    return tokens


async def refresh(
    session: AsyncSession,
    clock: Clock,
    partner: Partner,
    *,
    refresh_token: str,
    scope: str | None = None,
) -> IssuedTokens:
    """Rotation: the refresh token works once; a second use revokes its whole family."""
    now = clock.now()
    old = (
        await repository.token_by_hash(session, token_hash(refresh_token), lock=True)
        if refresh_token
        else None
    )
    if old is None or old.kind != TokenKind.REFRESH or old.partner_id != partner.id:
        raise InvalidGrant("刷新令牌无效或已过期")
    if old.used_at is not None:
        await repository.revoke_family(session, old.family, now)
        await session.commit()
        raise InvalidGrant("刷新令牌无效或已过期")
    if old.revoked_at is not None or old.expires_at <= now:
        raise InvalidGrant("刷新令牌无效或已过期")
    grant = await _live_grant(session, old.grant_id, now)
    held = set(old.scopes.split()) & set(grant.scopes.split())
    asked = parse_scope(scope)
    if asked and not set(asked) <= held:
        raise InvalidScope("刷新时不能扩大授权范围")
    old.used_at = now
    # The access token issued beside this refresh token ends now: one live pair per family.
    await repository.revoke_family(session, old.family, now)
    tokens = await _issue(session, partner, grant, scope_text(asked or held), old.family, now)
    await session.commit()
    return tokens


async def revoke_token(session: AsyncSession, clock: Clock, partner: Partner, token: str) -> None:
    """RFC 7009: unknown tokens and other clients' tokens are answered alike (200, nothing done).
    Revoking a refresh token ends its family's access token too (§2.1)."""
    found = await repository.token_by_hash(session, token_hash(token), lock=True) if token else None
    if found is None or found.partner_id != partner.id:
        return
    now = clock.now()
    if found.kind == TokenKind.REFRESH:
        await repository.revoke_family(session, found.family, now)
    elif found.revoked_at is None:
        found.revoked_at = now
    await session.commit()


async def introspect(
    session: AsyncSession, clock: Clock, partner: Partner, token: str
) -> dict[str, Any]:
    """RFC 7662: only the partner a token was issued to learns anything about it."""
    context = await repository.token_context(session, token_hash(token)) if token else None
    now = clock.now()
    if (
        context is None
        or context.token.partner_id != partner.id
        or context.token.revoked_at is not None
        or context.token.expires_at <= now
        or context.partner.status != PartnerStatus.ACTIVE
        or not grant_is_live(
            context.grant.granted_at,
            context.grant.last_used_at,
            context.grant.revoked_at,
            now,
        )
    ):
        return {"active": False}
    held = set(context.token.scopes.split()) & set(context.grant.scopes.split())
    return {
        "active": True,
        "client_id": partner.client_id,
        "scope": scope_text(held),
        "token_type": "Bearer" if context.token.kind == TokenKind.ACCESS else "refresh_token",
        "exp": int(context.token.expires_at.timestamp()),
        "iat": int(context.token.issued_at.timestamp()),
    }
