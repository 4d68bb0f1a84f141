"""缴费记录: the person's contribution months, with the gaps (欠费) between them. Read only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.contributions import repository as contributions_repository
from yibao.contributions.domain import (
    InvalidContribution,
    gap_months,
    month_index,
    month_of_index,
    parse_month,
)
from yibao.kernel.clock import Clock, china_today
from yibao.statements.domain import ContributionMonth, InvalidFilter


@dataclass(frozen=True, slots=True)
class ContributionHistory:
    months: list[ContributionMonth]  # newest first, gaps included
    hidden: int
    since: str
    until: str
    credited_fen: int
    owing_months: list[str] = field(default_factory=list)


def _month_bounds(since: str | None, until: str | None, today: date) -> tuple[str, str]:
    try:
        last = parse_month(until) if until else f"{today:%Y-%m}"
        first = parse_month(since) if since else month_of_index(month_index(last) - 11)
    except InvalidContribution as exc:
        raise InvalidFilter("月份应为 YYYY-MM，例如 2025-01") from exc
    if first > last:
        raise InvalidFilter("开始月份不能晚于结束月份")
    return first, last


async def contribution_history(
    session: AsyncSession,
    clock: Clock,
    person_id: int,
    *,
    since: str | None = None,
    until: str | None = None,
) -> ContributionHistory:
    first, last = _month_bounds(since, until, china_today(clock))
    every = await contributions_repository.for_person(session, person_id)
    # Gaps are judged on the whole history, so a window that starts inside a gap still shows it.
    gaps = set(gap_months([c.month for c in every]))
    months = [
        ContributionMonth(
            month=c.month,
            status=c.status,
            base_fen=c.base_fen,
            employer_fen=c.employer_fen,
            personal_fen=c.personal_fen,
            credited_fen=c.credited_fen,
            arrived_on=c.arrived_on,
        )
        for c in every
    ]
    months += [ContributionMonth(month=m, status="gap") for m in gaps]
    months.sort(key=lambda m: m.month, reverse=True)
    shown = [m for m in months if first <= m.month <= last]
    return ContributionHistory(
        months=shown,
        hidden=len(months) - len(shown),
        since=first,
        until=last,
        credited_fen=sum(m.credited_fen or 0 for m in shown),
        owing_months=sorted(m.month for m in shown if m.owing),
    )
