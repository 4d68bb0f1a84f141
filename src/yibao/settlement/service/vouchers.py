"""医保电子凭证: the ecToken behind the person's dynamic QR code.

The token is random and only its hash is kept. It is bound to the person it was made for, works
until it expires (a few minutes: the QR code refreshes every minute) and pays once: the settling
transaction spends it with a conditional UPDATE, which only one transaction in any process can
win, and a rolled-back settlement leaves it unspent.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment import repository as enrolment_repository
from yibao.kernel.clock import Clock
from yibao.kernel.ids import new_token
from yibao.settlement import repository
from yibao.settlement.domain import EcTokenUsed, InvalidEcToken
from yibao.settlement.tables import EcToken


def token_hash(token: str) -> str:
    return hashlib.sha256(token.strip().encode()).hexdigest()


async def issue_ec_token(
    session: AsyncSession, person_id: int, clock: Clock, ttl: timedelta
) -> tuple[str, datetime]:
    """A fresh ecToken for the person's QR code; their expired ones are cleared on the way."""
    now = clock.now()
    await session.execute(
        delete(EcToken).where(EcToken.person_id == person_id, EcToken.expires_at <= now)
    )
    token = new_token(24)
    session.add(EcToken(token_hash=token_hash(token), person_id=person_id, expires_at=now + ttl))
    await session.commit()
    return token, now + ttl


async def holder_name(session: AsyncSession, person_id: int) -> str:
    """The name shown under the code, masked but for the surname (张*伟 → 张*)."""
    person = await enrolment_repository.person(session, person_id)
    return "" if person is None else person.name[:1] + "*" * (len(person.name) - 1)


async def holder_of(session: AsyncSession, token: str, now: datetime) -> int:
    """The person an unexpired, unspent ecToken was made for."""
    found = await repository.ec_token(session, token_hash(token))
    if found is None or found.expires_at <= now:
        raise InvalidEcToken("医保电子凭证无效或已过期，请让参保人刷新二维码后重新扫码")
    if found.used_at is not None:
        raise EcTokenUsed("该医保电子凭证已用于一次结算，请让参保人刷新二维码")
    return found.person_id


async def spend(
    session: AsyncSession, token: str, person_id: int, setl_id: str, now: datetime
) -> None:
    if not await repository.spend_ec_token(session, token_hash(token), person_id, setl_id, now):
        raise EcTokenUsed("该医保电子凭证已用于一次结算，请让参保人刷新二维码")
