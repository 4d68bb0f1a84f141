"""Use cases of the ledger that stand on their own: freeze, reverse one entry.

Unfreezing is not here on purpose: it needs a second staff member's approval, which the family
feature's misuse use cases (`family.service.misuse`) own.

Settlement, contributions and family post entries through `ledger.repository` inside their own
use cases, so that the money and the business record commit together.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.kernel.clock import Clock
from yibao.kernel.errors import InvalidInput
from yibao.ledger import repository
from yibao.ledger.domain import NoPersonalAccount, UnknownEntry
from yibao.ledger.tables import LedgerEntry, PersonalAccount


def _require_reason(reason: str) -> str:
    reason = reason.strip()
    if len(reason) < 2:
        raise InvalidInput("请填写原因")
    return reason


async def freeze_account(
    session: AsyncSession, person_id: int, reason: str, clock: Clock
) -> PersonalAccount:
    reason = _require_reason(reason)
    account = await repository.account_for_person(session, person_id, lock=True)
    if account is None:
        raise NoPersonalAccount("该参保人没有职工医保个人账户")
    await repository.freeze(session, account, reason, clock.now())
    await session.commit()
    return account


async def reverse_entry(
    session: AsyncSession, entry_id: int, reason: str, clock: Clock
) -> LedgerEntry:
    reason = _require_reason(reason)
    original = await repository.entry_by_id(session, entry_id)
    if original is None:
        raise UnknownEntry(f"没有编号为 {entry_id} 的记账记录")
    account = await repository.lock_account(session, original.account_id)
    entry = await repository.reverse(
        session,
        account,
        original,
        idempotency_key=f"reversal:{original.id}",
        reason=reason,
        now=clock.now(),
    )
    await session.commit()
    return entry
