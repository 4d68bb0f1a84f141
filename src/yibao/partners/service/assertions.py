"""Client authentication with the partner's own key (`private_key_jwt`, RFC 7523 §2.2 and
OpenID Connect Core §9): the partner signs a short JWT with the private key whose public half it
registered, so no shared secret has to travel or be stored at all.

The assertion names the partner (`iss` = `sub` = client_id), is meant for yibao (`aud` = the
token endpoint or the issuer), expires within five minutes and is used once (its `jti` is kept
in the short-lived store until it expires, so every server process refuses a replay).
Signatures are checked with joserfc.
"""

from __future__ import annotations

import json
from datetime import timedelta

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.db.ephemeral import EphemeralStore
from yibao.kernel.clock import Clock
from yibao.partners import repository
from yibao.partners.domain import InvalidClient, PartnerStatus
from yibao.partners.tables import Partner

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"]
MAX_LIFETIME = 300  # seconds between now and the assertion's `exp`


def _claimed_client(assertion: str) -> str:
    """Whose key to check with: the unverified `iss`, trusted only once the signature holds."""
    claims = json.loads(extract_compact(assertion.encode()).payload)
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    if not isinstance(issuer, str):
        raise ValueError("no iss")
    return issuer


async def authenticate_with_assertion(
    session: AsyncSession,
    ephemeral: EphemeralStore,
    clock: Clock,
    assertion: str,
    audiences: list[str],
) -> Partner:
    refused = InvalidClient("客户端认证失败")
    try:
        client_id = _claimed_client(assertion)
    except (JoseError, ValueError, UnicodeDecodeError):
        raise refused from None
    partner = await repository.partner_by_client_id(session, client_id[:64])
    if partner is None or partner.status != PartnerStatus.ACTIVE or not partner.public_keys_json:
        raise refused
    now = int(clock.now().timestamp())
    try:
        keys = KeySet.import_key_set(json.loads(partner.public_keys_json))
        token = jwt.decode(assertion, keys, algorithms=ALGORITHMS)
        jwt.JWTClaimsRegistry(
            now=now,
            iss={"essential": True, "value": client_id},
            sub={"essential": True, "value": client_id},
            aud={"essential": True, "values": audiences},
            exp={"essential": True},
            jti={"essential": True},
        ).validate(token.claims)
    except (JoseError, ValueError, TypeError):
        raise refused from None
    expires = token.claims["exp"]
    if not isinstance(expires, int) or expires - now > MAX_LIFETIME:
        raise refused
    jti = str(token.claims["jti"])[:100]
    ttl = timedelta(seconds=expires - now + 60)
    if not await ephemeral.add(f"open:jti:{partner.id}:{jti}", "1", ttl):
        raise refused
    return partner
