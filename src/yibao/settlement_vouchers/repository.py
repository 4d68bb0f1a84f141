"""Queries of settlement vouchers. Never commits: the calling use case does."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.settlement_vouchers.tables import SettlementVoucher


async def current(session: AsyncSession, settlement_id: int) -> SettlementVoucher | None:
    """The newest version not withdrawn."""
    stmt = (
        select(SettlementVoucher)
        .where(
            SettlementVoucher.settlement_id == settlement_id,
            SettlementVoucher.withdrawn_at.is_(None),
        )
        .order_by(SettlementVoucher.version.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def last_version(session: AsyncSession, settlement_id: int) -> int:
    """The highest version ever kept (withdrawn ones count: a version number is never reused)."""
    stmt = select(func.max(SettlementVoucher.version)).where(
        SettlementVoucher.settlement_id == settlement_id
    )
    return int(await session.scalar(stmt) or 0)


async def history(session: AsyncSession, settlement_id: int) -> list[SettlementVoucher]:
    stmt = (
        select(SettlementVoucher)
        .where(SettlementVoucher.settlement_id == settlement_id)
        .order_by(SettlementVoucher.version)
    )
    return list((await session.execute(stmt)).scalars())


async def by_msgid(
    session: AsyncSession, msgid: str, fixmedins_code: str
) -> SettlementVoucher | None:
    stmt = select(SettlementVoucher).where(
        SettlementVoucher.msgid == msgid, SettlementVoucher.fixmedins_code == fixmedins_code
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def add(session: AsyncSession, row: SettlementVoucher) -> None:
    session.add(row)


async def withdraw(session: AsyncSession, voucher_id: int, now: datetime) -> bool:
    """Mark a version withdrawn; False when it was already (a second 2601)."""
    result = await session.execute(
        update(SettlementVoucher)
        .where(SettlementVoucher.id == voucher_id, SettlementVoucher.withdrawn_at.is_(None))
        .values(withdrawn_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
