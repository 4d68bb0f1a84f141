"""An account's status: frozen (冻结) and active again (解冻), inside the caller's use case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.ledger.domain import AccountStatus
from yibao.ledger.tables import PersonalAccount


async def freeze(
    session: AsyncSession, account: PersonalAccount, reason: str, now: datetime
) -> None:
    """Stop payments from a locked account (冻结) inside the caller's use case."""
    account.status = AccountStatus.FROZEN.value
    account.frozen_reason = reason
    account.updated_at = now
    await session.flush()


async def unfreeze(session: AsyncSession, account: PersonalAccount, now: datetime) -> None:
    """Payments allowed again (解冻); the caller's use case holds the second approval."""
    account.status = AccountStatus.ACTIVE.value
    account.frozen_reason = None
    account.updated_at = now
    await session.flush()
