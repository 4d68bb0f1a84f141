"""医保电子凭证: the ecToken behind the person's dynamic QR code.

The token is random; only its hash is kept, in the short-lived store (so it expires by itself
and every server process sees it). Paying with it writes an `ec_token_uses` row inside the
settlement's transaction, whose primary key refuses a second payment in any process.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.db.ephemeral import EphemeralStore
from yibao.kernel.ids import new_token
from yibao.settlement.domain import EcTokenUsed, InvalidEcToken
from yibao.settlement.tables import EcTokenUse


def token_hash(token: str) -> str:
    return hashlib.sha256(token.strip().encode()).hexdigest()


def _key(digest: str) -> str:
    return f"ectoken:{digest}"


async def issue_ec_token(ephemeral: EphemeralStore, person_id: int, ttl: timedelta) -> str:
    token = new_token(24)
    await ephemeral.put(_key(token_hash(token)), str(person_id), ttl)
    return token


async def holder_of(session: AsyncSession, ephemeral: EphemeralStore, token: str) -> int:
    """The person an unexpired, unused ecToken was made for."""
    digest = token_hash(token)
    person = await ephemeral.get(_key(digest))
    if person is None:
        raise InvalidEcToken("医保电子凭证无效或已过期，请让参保人刷新二维码后重新扫码")
    if await session.get(EcTokenUse, digest) is not None:
        raise EcTokenUsed("该医保电子凭证已用于一次结算，请让参保人刷新二维码")
    return int(person)


def record_use(
    session: AsyncSession, token: str, person_id: int, setl_id: str, now: datetime
) -> None:
    session.add(
        EcTokenUse(token_hash=token_hash(token), person_id=person_id, setl_id=setl_id, used_at=now)
    )
