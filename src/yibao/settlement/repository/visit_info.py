"""A visit's diagnoses (2203) and its fee lines by charge batch (2205); never commits."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.settlement.tables import FeeDetail, Visit, VisitDiagnosis


async def drop_diagnoses(session: AsyncSession, visit_id: int, msgid: str | None = None) -> int:
    """Delete the visit's diagnoses (only those the 2203 `msgid` sent, if given); how many."""
    stmt = delete(VisitDiagnosis).where(VisitDiagnosis.visit_id == visit_id)
    if msgid is not None:
        stmt = stmt.where(VisitDiagnosis.msgid == msgid)
    result = await session.execute(stmt)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def diagnoses_of(session: AsyncSession, visit_id: int) -> list[VisitDiagnosis]:
    rows = await session.execute(
        select(VisitDiagnosis)
        .where(VisitDiagnosis.visit_id == visit_id)
        .order_by(VisitDiagnosis.diag_srt_no)
    )
    return list(rows.scalars())


async def visit_of_info(
    session: AsyncSession, person_id: int, fixmedins_code: str, msgid: str
) -> str | None:
    """The mdtrt_id of the person's visit at the institution whose information (or diagnoses)
    the 2203 `msgid` sent, if any is left."""
    by_visit = select(Visit.mdtrt_id).where(
        Visit.person_id == person_id,
        Visit.fixmedins_code == fixmedins_code,
        Visit.info_msgid == msgid,
    )
    found = (await session.execute(by_visit.limit(1))).scalar_one_or_none()
    if found is not None:
        return found
    by_diagnosis = (
        select(Visit.mdtrt_id)
        .join(VisitDiagnosis, VisitDiagnosis.visit_id == Visit.id)
        .where(
            Visit.person_id == person_id,
            Visit.fixmedins_code == fixmedins_code,
            VisitDiagnosis.msgid == msgid,
        )
        .limit(1)
    )
    return (await session.execute(by_diagnosis)).scalar_one_or_none()


async def withdraw_batch(session: AsyncSession, visit_id: int, chrg_bchno: str | None) -> int:
    """Delete the visit's fee lines of one charge batch (None: every line); how many."""
    stmt = delete(FeeDetail).where(FeeDetail.visit_id == visit_id)
    if chrg_bchno is not None:
        stmt = stmt.where(FeeDetail.chrg_bchno == chrg_bchno)
    result = await session.execute(stmt)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
