"""The statements every account page view and `/api/v1` read runs: hand-written SQL on the driver.

A view of the overview is one statement (person, enrolment, region, employer, account, the year's
totals, the latest entry and the 12-month series, from one snapshot); a page of 消费记录 is one too
(the account, both counts, and the page with each entry's settlement and beneficiary joined in). See
db/direct/ for why these bypass SQLAlchemy, and docs/benchmarks.md for what it bought.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.db.direct import Row, Sql, direct
from yibao.identity import repository as identity_repository
from yibao.statements.domain import LEDGER_KINDS, ConsumptionFilter, ConsumptionKind, Cursor, Scope

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


# --- 消费记录 ------------------------------------------------------------------------------------

# Filters are a handful of optional conditions: each shape of them is one `Sql`, made once.
_SHAPES: dict[str, Sql] = {}
_ENTRY_COLUMNS = (
    "e.id, e.kind, e.amount_fen, e.counterparty, e.counterparty_code, e.beneficiary_person_id,"
    " e.source_type, e.source_id, e.created_at"
)
# Each entry with what the page shows of its settlement and, for a relative, their name.
_WITH_DETAIL = f"""
    SELECT {_ENTRY_COLUMNS},
           s.id AS setl_pk, s.fixmedins_type, s.med_type, s.medfee_sumamt_fen, s.fund_pay_sumamt_fen,
           s.acct_pay_fen, s.acct_mulaid_pay_fen, s.psn_cash_pay_fen, s.status AS setl_status,
           b.name AS beneficiary_name
    FROM ledger_entries e
    LEFT JOIN settlements s ON e.source_type = 'settlement' AND s.setl_id = e.source_id
    LEFT JOIN persons b ON b.id = e.beneficiary_person_id
"""
_ENTRY_DATETIMES = ("created_at",)


def _shape(text: str) -> Sql:
    found = _SHAPES.get(text)
    if found is None:
        found = _SHAPES[text] = Sql(text, datetimes=_ENTRY_DATETIMES)
    return found


def _caller_shape(text: str) -> Sql:
    found = _SHAPES.get(text)
    if found is None:
        found = _SHAPES[text] = Sql(
            text, datetimes=(*_ENTRY_DATETIMES, *identity_repository.CALLER_DATETIMES)
        )
    return found


def _filter(person_id: int, wanted: ConsumptionFilter) -> tuple[list[str], dict[str, Any]]:
    conditions = [
        CONSUMPTION,
        "e.created_at >= :since",
        "e.created_at < :until",
    ]
    params: dict[str, Any] = {"since": wanted.days.start_utc(), "until": wanted.days.end_utc()}
    if wanted.kind is not None:
        conditions.append("e.kind = :kind")
        params["kind"] = LEDGER_KINDS[wanted.kind]
        if wanted.kind == ConsumptionKind.REFUND:
            conditions.append("e.amount_fen > 0")
    if wanted.institution:
        conditions.append(
            "(e.counterparty_code = :institution_code"
            " OR e.counterparty LIKE :institution_like ESCAPE '/')"
        )
        escaped = wanted.institution.replace("/", "//").replace("%", "/%").replace("_", "/_")
        params["institution_code"] = wanted.institution.upper()
        params["institution_like"] = f"%{escaped}%"
    own = "(e.beneficiary_person_id IS NULL OR e.beneficiary_person_id = :person_id)"
    if wanted.scope == Scope.SELF:
        conditions.append(own)
        params["person_id"] = person_id
    elif wanted.scope == Scope.FAMILY:
        conditions.append(
            "(e.beneficiary_person_id IS NOT NULL AND e.beneficiary_person_id <> :person_id)"
        )
        params["person_id"] = person_id
    return conditions, params


def _page(
    account: str,
    conditions: list[str],
    params: dict[str, Any],
    *,
    after: Cursor | None,
    limit: int,
) -> str:
    """The page's statement for the account `account` names (a parameter or a subquery): newest
    first, one more row than `limit` (so the caller knows a next page exists)."""
    conditions = list(conditions)
    if after is not None:
        # The plain `<=` bound lets the index range start at the cursor (an OR alone would only
        # filter rows after scanning them); the OR then breaks ties on the same instant by id.
        conditions.append("e.created_at <= :after_at")
        conditions.append(
            "(e.created_at < :after_at OR (e.created_at = :after_at AND e.id < :after_id))"
        )
        params["after_at"] = after.created_at
        params["after_id"] = after.entry_id
    params["rows"] = limit + 1
    return (
        f"{_WITH_DETAIL} WHERE e.account_id = {account} AND {' AND '.join(conditions)}"
        " ORDER BY e.created_at DESC, e.id DESC LIMIT :rows"
    )


def consumption_page_sql(
    account_id: int,
    person_id: int,
    wanted: ConsumptionFilter,
    *,
    after: Cursor | None,
    limit: int,
) -> tuple[Sql, dict[str, Any]]:
    """A page of one account's records on its own (EXPLAIN checks its plan in a test)."""
    conditions, params = _filter(person_id, wanted)
    text = _page(":account_id", conditions, params, after=after, limit=limit)
    params["account_id"] = account_id
    return _shape(text), params


@dataclass(frozen=True, slots=True)
class EntryDetail:
    """One ledger entry as `_WITH_DETAIL` reads it: the settlement's columns are None for an
    entry of no settlement, `beneficiary_name` for one paid for nobody."""

    id: int
    kind: str
    amount_fen: int
    counterparty: str
    counterparty_code: str | None
    beneficiary_person_id: int | None
    source_type: str | None
    source_id: str | None
    created_at: datetime
    setl_pk: int | None
    fixmedins_type: str | None
    med_type: str | None
    medfee_sumamt_fen: int | None
    fund_pay_sumamt_fen: int | None
    acct_pay_fen: int | None
    acct_mulaid_pay_fen: int | None
    psn_cash_pay_fen: int | None
    setl_status: str | None
    beneficiary_name: str | None


_DETAIL_FIELDS = EntryDetail.__slots__


def _detail(row: Row) -> EntryDetail:
    return EntryDetail(*(row[name] for name in _DETAIL_FIELDS))


@dataclass(frozen=True, slots=True)
class ConsumptionRows:
    account_id: int
    matching: int  # what the filter keeps (0 when not counted)
    everything: int  # every consumption record of the account, whatever the filter
    rows: list[EntryDetail]  # the page, newest first, with one row more when a next page exists


def _consumption_text(
    conditions: list[str],
    params: dict[str, Any],
    *,
    after: Cursor | None,
    limit: int,
    counted: bool,
    caller: bool,
) -> str:
    page = _page("(SELECT id FROM acct)", conditions, params, after=after, limit=limit)
    counts = "0 AS everything, 0 AS matching FROM acct"
    if counted:  # conditions[0] is CONSUMPTION, which the join already applies
        matched = f"CASE WHEN {' AND '.join(conditions[1:])} THEN 1 ELSE 0 END"
        counts = f"""COUNT(e.id) AS everything,
                CAST(COALESCE(SUM({matched}), 0) AS BIGINT) AS matching
            FROM acct LEFT JOIN ledger_entries e ON e.account_id = acct.id AND {CONSUMPTION}
            GROUP BY acct.id"""
    if caller:
        # No row at all: no caller. A row with no `acct_id`: the caller has no account.
        head = f"{identity_repository.CALLER_CTE},\n        acct AS (SELECT a.id FROM caller"
        head += " JOIN personal_accounts a ON a.person_id = caller.person_id)"
        select = "caller.*, counts.account_id AS acct_id"
        source = "caller LEFT JOIN counts ON 1 = 1"
    else:
        head = "acct AS (SELECT a.id FROM personal_accounts a WHERE a.person_id = :owner)"
        select = "counts.account_id AS acct_id"
        source = "counts"
    return f"""
        WITH {head},
        counts AS (SELECT acct.id AS account_id, {counts}),
        page AS ({page})
        SELECT {select}, counts.everything, counts.matching, page.*
        FROM {source} LEFT JOIN page ON 1 = 1
        ORDER BY page.created_at DESC, page.id DESC
    """


def _consumption_rows(found: Sequence[Row]) -> ConsumptionRows | None:
    first = found[0]
    if first["acct_id"] is None:
        return None
    return ConsumptionRows(
        account_id=int(first["acct_id"]),
        matching=int(first["matching"]),
        everything=int(first["everything"]),
        rows=[_detail(row) for row in found if row["id"] is not None],  # none: an empty page
    )


async def consumption_page(
    session: AsyncSession,
    person_id: int,
    wanted: ConsumptionFilter,
    *,
    after: Cursor | None,
    limit: int,
    counted: bool = True,
) -> ConsumptionRows | None:
    """The person's account, both counts (when `counted`) and a page, in one statement, so the
    counts and the page come from one snapshot; None without an account."""
    conditions, params = _filter(person_id, wanted)
    text = _consumption_text(
        conditions, params, after=after, limit=limit, counted=counted, caller=False
    )
    params["owner"] = person_id
    found = await (await direct(session)).fetch(_shape(text), **params)
    return _consumption_rows(found) if found else None


async def consumption_page_for_caller(
    session: AsyncSession,
    caller: identity_repository.CallerCheck,
    wanted: ConsumptionFilter,
    *,
    after: Cursor | None,
    limit: int,
) -> tuple[identity_repository.CheckedCaller, ConsumptionRows | None] | None:
    """`consumption_page` (counted) of the person behind a bearer session, checked in the same
    statement; None when the session is not one `CALLER_CTE` lets through."""
    conditions, params = _filter(0, wanted)
    conditions = [c.replace(":person_id", "caller.person_id") for c in conditions]
    params.pop("person_id", None)
    text = _consumption_text(
        conditions, params, after=after, limit=limit, counted=True, caller=True
    )
    found = await (await direct(session)).fetch(_caller_shape(text), **params, **caller.params())
    if not found:
        return None
    return identity_repository.checked_caller(found[0]), _consumption_rows(found)


_FOR_SOURCE = Sql(
    f"""{_WITH_DETAIL}
    WHERE e.account_id = :account_id AND e.source_type = 'settlement' AND e.source_id = :setl_id
    ORDER BY e.created_at, e.id
    """,
    datetimes=_ENTRY_DATETIMES,
)


async def entries_for_source(
    session: AsyncSession, account_id: int, setl_id: str
) -> list[EntryDetail]:
    db = await direct(session)
    return [
        _detail(row) for row in await db.fetch(_FOR_SOURCE, account_id=account_id, setl_id=setl_id)
    ]
