"""The overview every account page view and `GET /api/v1/account` runs: one statement (person,
enrolment, region, employer, account, the year's totals, the latest entry and the 12-month
series, from one snapshot), hand-written SQL on the driver. See db/direct/ for why these bypass
SQLAlchemy, and docs/benchmarks.md for what it bought.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.db.direct import Row, Sql, direct
from yibao.identity import repository as identity_repository

_DEBITS = "e.kind IN ('settlement_debit', 'mutual_aid_debit', 'relative_contribution_debit')"
# A reversal with a positive amount gave back money a debit took: it belongs with 消费记录.
CONSUMPTION = f"({_DEBITS} OR (e.kind = 'reversal' AND e.amount_fen > 0))"
# Interest (年度结息) is credited to the account like a contribution. Reversals net against what
# they undo: a returned debit lowers spending, a taken-back credit
# lowers what was credited.
_SPENT = (
    f"CASE WHEN {_DEBITS} THEN -e.amount_fen"
    " WHEN e.kind = 'reversal' AND e.amount_fen > 0 THEN -e.amount_fen ELSE 0 END"
)
_CREDITED = (
    "CASE WHEN e.kind IN ('contribution_credit', 'interest_credit') THEN e.amount_fen"
    " WHEN e.kind = 'reversal' AND e.amount_fen < 0 THEN e.amount_fen ELSE 0 END"
)
CHART_MONTHS = 12


def _total(expression: str, low: str, high: str) -> str:
    return (
        f"CAST(COALESCE(SUM(CASE WHEN e.created_at >= :{low} AND e.created_at < :{high}"
        f" THEN {expression} ELSE 0 END), 0) AS BIGINT)"
    )


_MONTH_COLUMNS = ",\n           ".join(
    f"{_total(_SPENT, f'b{i}', f'b{i + 1}')} AS m{i}" for i in range(CHART_MONTHS)
)
_MONTH_NAMES = ", ".join(f"t.m{i}" for i in range(CHART_MONTHS))


def _overview_text(*, for_caller: bool) -> str:
    """The overview of `:person_id`, or (`for_caller`) of the person whose bearer session
    identity's `caller` CTE finds, with that session's columns: no row when it finds none."""
    person = "(SELECT person_id FROM caller)" if for_caller else ":person_id"
    head = (
        f"WITH {identity_repository.CALLER_CTE}\n    SELECT caller.*," if for_caller else "SELECT"
    )
    source = "caller JOIN persons p ON p.id = caller.person_id" if for_caller else "persons p"
    where = "" if for_caller else "WHERE p.id = :person_id"
    return f"""
    {head} p.name AS person_name, p.psn_no,
           e.insutype, e.psn_type, e.status AS enrolment_status, e.admdvs,
           r.name AS region_name, em.name AS employer_name,
           a.id AS account_id, a.balance_fen, a.status AS account_status,
           (SELECT MAX(l.created_at) FROM ledger_entries l WHERE l.account_id = a.id)
               AS last_entry_at,
           t.year_credited, t.year_spent, {_MONTH_NAMES}
    FROM {source}
    LEFT JOIN enrolments e ON e.id = (
        SELECT x.id FROM enrolments x
        WHERE x.person_id = p.id AND x.insutype IN ('310', '390')
        ORDER BY x.insutype LIMIT 1)
    LEFT JOIN regions r ON r.admdvs = e.admdvs
    LEFT JOIN employers em ON em.id = e.employer_id
    LEFT JOIN personal_accounts a ON a.person_id = p.id
    LEFT JOIN (
        SELECT e.account_id,
           {_total(_CREDITED, "year_start", "year_end")} AS year_credited,
           {_total(_SPENT, "year_start", "year_end")} AS year_spent,
           {_MONTH_COLUMNS}
        FROM ledger_entries e
        WHERE e.account_id = (SELECT id FROM personal_accounts WHERE person_id = {person})
          AND e.created_at >= :since AND e.created_at < :year_end
        GROUP BY e.account_id
    ) t ON t.account_id = a.id
    {where}
    """


_OVERVIEW = Sql(_overview_text(for_caller=False), datetimes=("last_entry_at",))
_OVERVIEW_FOR_CALLER = Sql(
    _overview_text(for_caller=True),
    datetimes=("last_entry_at", *identity_repository.CALLER_DATETIMES),
)


@dataclass(frozen=True, slots=True)
class OverviewRow:
    person_name: str
    psn_no: str
    insutype: str | None
    psn_type: str | None
    enrolment_status: str | None
    admdvs: str | None
    region_name: str | None
    employer_name: str | None
    account_id: int | None
    balance_fen: int
    account_status: str | None
    last_entry_at: datetime | None
    year_credited_fen: int
    year_spent_fen: int
    spent_by_month: list[int]


def _overview_params(
    year: tuple[datetime, datetime], month_bounds: Sequence[datetime]
) -> dict[str, Any]:
    """`month_bounds`: the CHART_MONTHS + 1 instants that delimit the chart's months."""
    if len(month_bounds) != CHART_MONTHS + 1:
        raise ValueError(f"{CHART_MONTHS} months need {CHART_MONTHS + 1} bounds")
    return {
        "year_start": year[0],
        "year_end": year[1],
        "since": min(year[0], month_bounds[0]),
        **{f"b{i}": at for i, at in enumerate(month_bounds)},
    }


def _overview_row(row: Row) -> OverviewRow:
    return OverviewRow(
        person_name=row["person_name"],
        psn_no=row["psn_no"],
        insutype=row["insutype"],
        psn_type=row["psn_type"],
        enrolment_status=row["enrolment_status"],
        admdvs=row["admdvs"],
        region_name=row["region_name"],
        employer_name=row["employer_name"],
        account_id=row["account_id"],
        balance_fen=int(row["balance_fen"] or 0),
        account_status=row["account_status"],
        last_entry_at=row["last_entry_at"],
        year_credited_fen=int(row["year_credited"] or 0),
        year_spent_fen=int(row["year_spent"] or 0),
        spent_by_month=[int(row[f"m{i}"] or 0) for i in range(CHART_MONTHS)],
    )


async def overview(
    session: AsyncSession,
    person_id: int,
    *,
    year: tuple[datetime, datetime],
    month_bounds: Sequence[datetime],
) -> OverviewRow | None:
    row = await (await direct(session)).fetchrow(
        _OVERVIEW, person_id=person_id, **_overview_params(year, month_bounds)
    )
    return None if row is None else _overview_row(row)


async def overview_for_caller(
    session: AsyncSession,
    caller: identity_repository.CallerCheck,
    *,
    year: tuple[datetime, datetime],
    month_bounds: Sequence[datetime],
) -> tuple[identity_repository.CheckedCaller, OverviewRow] | None:
    """The overview of the person behind a bearer session, checked in the same statement; None
    when the session is not one `CALLER_CTE` lets through."""
    row = await (await direct(session)).fetchrow(
        _OVERVIEW_FOR_CALLER, **caller.params(), **_overview_params(year, month_bounds)
    )
    if row is None:
        return None
    return identity_repository.checked_caller(row), _overview_row(row)
