"""A settlement's writes, all of them in one unit: on PostgreSQL one statement (one round trip).

The settlement row and its items, each ledger entry with its account's new balance, the 家庭共济
shares, the visit marked settled, the year's accumulations and the holders' notices. They go to
the driver (db/direct/) inside the use case's transaction; the database's own guards (CHECK on
balances, unique keys, the ledger's append-only trigger) apply to each part as they would to
separate statements. Rows the session may hold in memory are moved as written.

Each table has one writer (docs/architecture.md rule 12): this module writes settlement's own
tables; the ledger's steps come from `ledger.repository.entry_steps` and the outbox's from
`notifications.repository.outbox_steps`, composed here into the one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.db.direct import Step, direct, loaded_moved, values_rows, write_steps
from yibao.ledger import repository as ledger_repository
from yibao.notifications import repository as notifications_repository
from yibao.settlement.domain import VisitState, YearToDate
from yibao.settlement.tables import Visit, YearlyAccumulation


@dataclass(frozen=True, slots=True)
class YearMove:
    person_id: int
    year: int
    after: YearToDate


@dataclass(frozen=True, slots=True)
class SharePaid:
    """One 家庭共济 payer's part of the bill: a `settlement_mutual_aid` row, paid by the entry
    `entry` (its index among the settlement's entries)."""

    entry: int
    payer_person_id: int
    beneficiary_person_id: int
    authorisation_id: int
    amount_fen: int


async def write_settlement(
    session: AsyncSession,
    *,
    settlement: dict[str, Any],
    items: list[dict[str, Any]],
    entries: Sequence[ledger_repository.NewEntry],
    shares: Sequence[SharePaid],
    visit: VisitState | None,
    year: YearMove,
    notices: Sequence[notifications_repository.NewMessage],
) -> int:
    """The new settlement's id."""
    ledger_steps, params = ledger_repository.entry_steps(
        entries, returning=frozenset(share.entry for share in shares)
    )
    outbox_steps, outbox_params = notifications_repository.outbox_steps(notices)
    params.update(outbox_params)
    params.update({f"s_{k}": v for k, v in settlement.items()})
    for n, row in enumerate(items):
        params.update({f"i{n}_{k}": v for k, v in row.items()})
    for n, share in enumerate(shares):
        params.update(
            {
                f"h{n}_payer_person_id": share.payer_person_id,
                f"h{n}_beneficiary_person_id": share.beneficiary_person_id,
                f"h{n}_authorisation_id": share.authorisation_id,
                f"h{n}_amount_fen": share.amount_fen,
            }
        )
    if visit is not None:
        params.update(v_id=visit.id, v_lines=visit.fees_read[0], v_last=visit.fees_read[1])
    params.update(
        y_person=year.person_id,
        y_year=year.year,
        y_dedc=year.after.deductible_used_fen,
        y_fund=year.after.fund_paid_fen,
    )
    steps = (
        *_settlement_steps(tuple(settlement), tuple(items[0]) if items else (), len(items)),
        *ledger_steps,
        *_share_steps(tuple(share.entry for share in shares)),
        *_closing_steps(visit is not None),
        *outbox_steps,
    )
    db = await direct(session, transaction=True)
    # One statement's parts share a snapshot: an account paying twice takes separate statements.
    accounts = [entry.account_id for entry in entries]
    ids = await write_steps(db, steps, combine=len(set(accounts)) == len(accounts), **params)
    ledger_repository.entries_written(session, entries)
    if visit is not None:
        loaded_moved(session, Visit, visit.id, status="settled")
    _year_moved(session, year)
    return ids["new_settlement"]


def _year_moved(session: AsyncSession, year: YearMove) -> None:
    loaded_moved(
        session,
        YearlyAccumulation,
        (year.person_id, year.year),
        deductible_used_fen=year.after.deductible_used_fen,
        fund_paid_fen=year.after.fund_paid_fen,
    )


async def move_year(session: AsyncSession, year: YearMove) -> None:
    """The year's accumulations (locked by `lock_year`) to `year.after`, on their own (a claim
    approved, a settlement cancelled): the same UPDATE the settlement's statement makes."""
    db = await direct(session, transaction=True)
    await write_steps(
        db,
        (_YEAR_MOVED,),
        combine=False,
        y_person=year.person_id,
        y_year=year.year,
        y_dedc=year.after.deductible_used_fen,
        y_fund=year.after.fund_paid_fen,
    )
    _year_moved(session, year)


def _columns(names: tuple[str, ...]) -> str:
    return ", ".join(names)


@lru_cache(maxsize=64)
def _settlement_steps(
    settlement: tuple[str, ...], item_columns: tuple[str, ...], items: int
) -> tuple[Step, ...]:
    """Built once per shape (which columns, how many items)."""
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
    return tuple(steps)


_SHARE_COLUMNS = ("payer_person_id", "beneficiary_person_id", "authorisation_id", "amount_fen")


@lru_cache(maxsize=16)
def _share_steps(paid_by: tuple[int, ...]) -> tuple[Step, ...]:
    return tuple(
        Step(
            f"share_{n}",
            "INSERT INTO settlement_mutual_aid"
            f" (settlement_id, ledger_entry_id, {_columns(_SHARE_COLUMNS)})"
            f" VALUES ({{new_settlement}}, {{{ledger_repository.entry_step(entry)}}},"
            f" {', '.join(f':h{n}_{c}' for c in _SHARE_COLUMNS)})",
        )
        for n, entry in enumerate(paid_by)
    )


_YEAR_MOVED = Step(
    "year_moved",
    "UPDATE yearly_accumulations SET deductible_used_fen = :y_dedc,"
    " fund_paid_fen = :y_fund WHERE person_id = :y_person AND year = :y_year",
)


@lru_cache(maxsize=2)
def _closing_steps(visit: bool) -> tuple[Step, ...]:
    steps = []
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
    steps.append(_YEAR_MOVED)
    return tuple(steps)
