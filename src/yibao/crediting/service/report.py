"""A run's report: totals per region and employer, and every refused line with its reason."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.crediting import repository
from yibao.crediting.domain import REFUSAL_REASONS, Refusal
from yibao.crediting.source import file_names
from yibao.crediting.tables import CreditingRun, CreditingTotal


@dataclass(frozen=True, slots=True)
class RefusedLine:
    file: str
    line_no: int
    id_number_masked: str
    month: str
    code: str
    reason: str


async def refused_report(
    session: AsyncSession, run: CreditingRun, *, page: int = 5_000
) -> AsyncIterator[RefusedLine]:
    """Every refused line of the run, in file order, a page at a time (memory stays flat)."""
    names = file_names(run.files)
    after = 0
    while True:
        rows = await repository.refused_lines(session, run.id, after, page)
        for row in rows:
            code = Refusal(row["refusal"])
            reason = REFUSAL_REASONS[code]
            if row["detail"]:
                reason = f"{reason}：{row['detail']}"
            index = row["file_index"]
            yield RefusedLine(
                file=names[index] if row["origin"] == "file" and index < len(names) else "",
                line_no=row["line_no"],
                id_number_masked=row["id_number_masked"] or "",
                month=row["month"] or "",
                code=code.value,
                reason=reason,
            )
        if len(rows) < page:
            return
        after = rows[-1]["id"]


async def run_totals(session: AsyncSession, run: CreditingRun) -> list[CreditingTotal]:
    return await repository.totals(session, run.id)
