"""PostgreSQL: a settlement's writes in one statement (the settling hot path's one write)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, insert, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from yibao.ledger.tables import LedgerEntry, PersonalAccount
from yibao.notifications.tables import OutboxMessage
from yibao.settlement.domain import YearToDate
from yibao.settlement.tables import Settlement, SettlementItem, Visit, YearlyAccumulation


async def write_settlement(
    session: AsyncSession,
    *,
    settlement: dict[str, Any],
    items: list[dict[str, Any]],
    entry: dict[str, Any] | None,
    account: PersonalAccount | None,
    visit: Visit | None,
    year: YearlyAccumulation,
    year_after: YearToDate,
    notices: list[dict[str, Any]],
) -> int:
    """PostgreSQL: a settlement's writes in one statement of data-modifying CTEs; its id.

    The settlement row and its items, the ledger entry and the account's new balance (from
    `ledger.repository.entry_row`), the visit marked settled, the year's accumulations and the
    holder's notices. The database's own guards (CHECK on the balance, unique keys, the ledger's
    append-only trigger) apply to each part as they would to separate statements, and the
    in-memory rows are moved as written so the session flushes nothing twice.
    """
    paid = entry is not None and account is not None
    statement = _settlement_statement(
        tuple(settlement),
        tuple(items[0]) if items else (),
        len(items),
        tuple(entry) if entry is not None and paid else (),
        visit is not None,
        tuple(notices[0]) if notices else (),
        len(notices),
    )
    params: dict[str, Any] = {f"s_{k}": v for k, v in settlement.items()}
    for n, item in enumerate(items):
        params.update({f"i{n}_{k}": v for k, v in item.items()})
    if entry is not None and account is not None:
        params.update({f"e_{k}": v for k, v in entry.items()})
        params.update(a_id=account.id)  # its balance moved in memory in entry_row
    if visit is not None:
        params["v_id"] = visit.id
        set_committed_value(visit, "status", "settled")
    for n, notice in enumerate(notices):
        params.update({f"n{n}_{k}": v for k, v in notice.items()})
    params.update(
        y_person=year.person_id,
        y_year=year.year,
        y_dedc=year_after.deductible_used_fen,
        y_fund=year_after.fund_paid_fen,
    )
    set_committed_value(year, "deductible_used_fen", year_after.deductible_used_fen)
    set_committed_value(year, "fund_paid_fen", year_after.fund_paid_fen)
    settlement_id: int = (await session.execute(statement, params)).scalar_one()
    return settlement_id


@lru_cache(maxsize=64)
def _settlement_statement(
    settlement: tuple[str, ...],
    item_columns: tuple[str, ...],
    items: int,
    entry: tuple[str, ...],
    visit: bool,
    notice_columns: tuple[str, ...],
    notices: int,
) -> Any:
    """Built once per shape with named parameters: building and keying a statement this size
    costs more than running it."""
    new = (
        insert(Settlement)
        .values({c: bindparam(f"s_{c}") for c in settlement})
        .returning(Settlement.id)
        .cte("new_settlement")
    )
    parts: list[Any] = []
    if items:
        table = SettlementItem.__table__
        rows = union_all(
            *(
                select(
                    new.c.id,
                    *(bindparam(f"i{n}_{c}", type_=table.c[c].type) for c in item_columns),
                )
                for n in range(items)
            )
        )
        parts.append(
            insert(SettlementItem)
            .from_select(["settlement_id", *item_columns], rows)
            .cte("new_items")
        )
    if entry:
        parts.append(
            insert(LedgerEntry).values({c: bindparam(f"e_{c}") for c in entry}).cte("new_entry")
        )
        parts.append(
            update(PersonalAccount)
            .where(PersonalAccount.id == bindparam("a_id"))
            .values(
                balance_fen=bindparam("e_balance_after_fen"), updated_at=bindparam("e_created_at")
            )
            .cte("paid_from_account")
        )
    if visit:
        parts.append(
            update(Visit)
            .where(Visit.id == bindparam("v_id"))
            .values(status="settled")
            .cte("visit_settled")
        )
    parts.append(
        update(YearlyAccumulation)
        .where(
            YearlyAccumulation.person_id == bindparam("y_person"),
            YearlyAccumulation.year == bindparam("y_year"),
        )
        .values(deductible_used_fen=bindparam("y_dedc"), fund_paid_fen=bindparam("y_fund"))
        .cte("year_moved")
    )
    # One CTE per notice: a multi-row VALUES would make the statement uncacheable.
    parts.extend(
        insert(OutboxMessage)
        .values({c: bindparam(f"n{n}_{c}") for c in notice_columns})
        .cte(f"notice_{n}")
        for n in range(notices)
    )
    return select(new.c.id).add_cte(*parts)
