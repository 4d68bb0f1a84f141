"""A settlement's writes, all of them in one unit: on PostgreSQL one statement (one round trip).

The settlement row and its items, each ledger entry with its account's new balance, the 家庭共济
shares, the visit marked settled, the year's accumulations and the holders' notices. They go to
the driver (db/direct/) inside the use case's transaction; the database's own guards (CHECK on
balances, unique keys, the ledger's append-only trigger) apply to each part as they would to
separate statements. Rows the session may hold in memory are moved as written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.db.direct import Step, direct, loaded_moved, values_rows, write_steps
from yibao.ledger import repository as ledger_repository
from yibao.settlement.domain import VisitState, YearToDate
from yibao.settlement.tables import Visit, YearlyAccumulation


@dataclass(frozen=True, slots=True)
class YearMove:
    person_id: int
    year: int
    after: YearToDate


async def write_settlement(
    session: AsyncSession,
    *,
    settlement: dict[str, Any],
    items: list[dict[str, Any]],
    entries: list[dict[str, Any]],
    shares: list[tuple[int, dict[str, Any]]],
    visit: VisitState | None,
    year: YearMove,
    notices: list[dict[str, Any]],
    now: datetime,
) -> int:
    """The new settlement's id. `entries` are ledger rows (`ledger.repository.entry_values`);
    each share is (the index of its entry, its settlement_mutual_aid columns)."""
    accounts = [entry["account_id"] for entry in entries]
    steps = _steps(
        tuple(settlement),
        tuple(items[0]) if items else (),
        len(items),
        tuple(tuple(entry) for entry in entries),
        tuple((index, tuple(share)) for index, share in shares),
        visit is not None,
        tuple(notices[0]) if notices else (),
        len(notices),
    )
    params: dict[str, Any] = {f"s_{k}": v for k, v in settlement.items()}
    for prefix, rows in (("i", items), ("e", entries), ("n", notices)):
        for n, row in enumerate(rows):
            params.update({f"{prefix}{n}_{k}": v for k, v in row.items()})
    for n, (_, share) in enumerate(shares):
        params.update({f"h{n}_{k}": v for k, v in share.items()})
    if visit is not None:
        params.update(v_id=visit.id, v_lines=visit.fees_read[0], v_last=visit.fees_read[1])
    params.update(
        y_person=year.person_id,
        y_year=year.year,
        y_dedc=year.after.deductible_used_fen,
        y_fund=year.after.fund_paid_fen,
    )
    db = await direct(session, transaction=True)
    # One statement's parts share a snapshot: an account paying twice takes separate statements.
    ids = await write_steps(db, steps, combine=len(set(accounts)) == len(accounts), **params)
    for entry in entries:
        ledger_repository.account_moved(
            session, entry["account_id"], entry["balance_after_fen"], now
        )
    if visit is not None:
        loaded_moved(session, Visit, visit.id, status="settled")
    loaded_moved(
        session,
        YearlyAccumulation,
        (year.person_id, year.year),
        deductible_used_fen=year.after.deductible_used_fen,
        fund_paid_fen=year.after.fund_paid_fen,
    )
    return ids["new_settlement"]


def _columns(names: tuple[str, ...]) -> str:
    return ", ".join(names)


@lru_cache(maxsize=64)
def _steps(
    settlement: tuple[str, ...],
    item_columns: tuple[str, ...],
    items: int,
    entries: tuple[tuple[str, ...], ...],
    shares: tuple[tuple[int, tuple[str, ...]], ...],
    visit: bool,
    notice_columns: tuple[str, ...],
    notices: int,
) -> tuple[Step, ...]:
    """Built once per shape (how many items, entries, shares and notices)."""
    paying = {index for index, _ in shares}
    steps = [
        Step(
            "new_settlement",
            f"INSERT INTO settlements ({_columns(settlement)})"
            f" VALUES ({', '.join(f':s_{c}' for c in settlement)}) RETURNING id",
            returns=True,
        )
    ]
    if items:
        steps.append(
            Step(
                "new_items",
                f"INSERT INTO settlement_items (settlement_id, {_columns(item_columns)})"
                f" VALUES {values_rows('i', item_columns, items, '{new_settlement}')}",
            )
        )
    for n, columns in enumerate(entries):
        steps.append(
            Step(
                f"entry_{n}",
                f"INSERT INTO ledger_entries ({_columns(columns)})"
                f" VALUES ({', '.join(f':e{n}_{c}' for c in columns)})"
                + (" RETURNING id" if n in paying else ""),
                returns=n in paying,
            )
        )
        steps.append(
            Step(
                f"paid_{n}",
                f"UPDATE personal_accounts SET balance_fen = :e{n}_balance_after_fen,"
                f" updated_at = :e{n}_created_at WHERE id = :e{n}_account_id",
            )
        )
    for n, (index, columns) in enumerate(shares):
        steps.append(
            Step(
                f"share_{n}",
                "INSERT INTO settlement_mutual_aid"
                f" (settlement_id, ledger_entry_id, {_columns(columns)})"
                f" VALUES ({{new_settlement}}, {{entry_{index}}},"
                f" {', '.join(f':h{n}_{c}' for c in columns)})",
            )
        )
    if visit:
        # The visit's lines were read with its lock taken in the same statement, so on
        # PostgreSQL from a snapshot older than the lock: lines a 2601 withdrew (or a 2204 added)
        # while this message waited on the lock were still read. Billing them would leave a
        # settlement of lines that are gone, so the visit is settled only if it still has the
        # lines read (same count, same highest id); otherwise 'stale' breaks the CHECK on its
        # status and the message fails whole (answered as a concurrent update, to be retried).
        steps.append(
            Step(
                "visit_settled",
                "UPDATE visits SET status = CASE WHEN (SELECT count(*) = :v_lines"
                " AND coalesce(max(id), 0) = :v_last FROM fee_details WHERE visit_id = :v_id)"
                " THEN 'settled' ELSE 'stale' END WHERE id = :v_id",
            )
        )
    steps.append(
        Step(
            "year_moved",
            "UPDATE yearly_accumulations SET deductible_used_fen = :y_dedc,"
            " fund_paid_fen = :y_fund WHERE person_id = :y_person AND year = :y_year",
        )
    )
    if notices:
        steps.append(
            Step(
                "notices",
                f"INSERT INTO outbox_messages ({_columns(notice_columns)})"
                f" VALUES {values_rows('n', notice_columns, notices)}",
            )
        )
    return tuple(steps)
