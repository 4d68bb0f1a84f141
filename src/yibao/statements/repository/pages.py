"""A page of 消费记录 as every page view and `GET /api/v1/consumption` reads it: one statement (the
account, both counts, and the page with each entry's settlement and beneficiary joined in),
hand-written SQL on the driver. See db/direct/ for why these bypass SQLAlchemy, and
docs/benchmarks.md for what it bought; the overview is in `overview.py`.
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
from yibao.statements.repository.overview import CONSUMPTION

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
    # The page and the counts are CTEs of their own: they name the caller through a subquery.
    conditions = [c.replace(":person_id", "(SELECT person_id FROM caller)") for c in conditions]
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
