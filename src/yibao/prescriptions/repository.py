"""Queries of prescription authorisations. Never commits: the calling use case does."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.prescriptions.domain import ACTIVE, REVOKED
from yibao.prescriptions.tables import PrescriptionAuthorisation


async def active_for(session: AsyncSession, hi_rxno: str) -> PrescriptionAuthorisation | None:
    stmt = select(PrescriptionAuthorisation).where(
        PrescriptionAuthorisation.hi_rxno == hi_rxno, PrescriptionAuthorisation.status == ACTIVE
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def by_msgid(
    session: AsyncSession, msgid: str, fixmedins_code: str
) -> PrescriptionAuthorisation | None:
    stmt = select(PrescriptionAuthorisation).where(
        PrescriptionAuthorisation.msgid == msgid,
        PrescriptionAuthorisation.fixmedins_code == fixmedins_code,
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def add(session: AsyncSession, row: PrescriptionAuthorisation) -> None:
    session.add(row)


async def revoke(session: AsyncSession, authorisation_id: int, now: datetime) -> bool:
    result = await session.execute(
        update(PrescriptionAuthorisation)
        .where(
            PrescriptionAuthorisation.id == authorisation_id,
            PrescriptionAuthorisation.status == ACTIVE,
        )
        .values(status=REVOKED, revoked_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
