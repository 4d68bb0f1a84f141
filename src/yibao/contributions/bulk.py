"""Contribution records for batch jobs (a province's monthly crediting): read and write a batch of
person-months in a statement or two. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import cast

from sqlalchemy import Table, func, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.contributions.tables import Contribution
from yibao.db.bulk import Together, arrays, unnest
from yibao.db.direct import Sql, direct

_CONTRIBUTIONS = cast(Table, Contribution.__table__)


@dataclass(frozen=True, slots=True)
class MonthRecord:
    """One person-month as a batch writes it (a new record, or the corrected one)."""

    person_id: int
    month: str
    base_fen: int
    employer_fen: int
    personal_fen: int
    credited_fen: int
    arrived_on: date
    status: str
    ledger_entry_id: int | None


@dataclass(frozen=True, slots=True)
class Recorded:
    base_fen: int
    employer_fen: int
    personal_fen: int
    credited_fen: int


_PER_LIST = 500
_NAMES = [f.name for f in fields(MonthRecord)]
_TYPES = {
    "person_id": "bigint",
    "month": "text",
    "arrived_on": "date",
    "status": "text",
    "ledger_entry_id": "bigint",
}
_COLUMNS = tuple((n, _TYPES.get(n, "bigint")) for n in _NAMES)

_RECORDED = Sql(
    f"""
    SELECT c.person_id, c.month, c.base_fen, c.employer_fen, c.personal_fen, c.credited_fen
    FROM contributions c JOIN {unnest((("person_id", "bigint"), ("month", "text")))}
      ON c.person_id = u.person_id AND c.month = u.month
    """  # noqa: S608 - fixed fragments; values bound
)
_WRITE = Sql(
    f"""
    INSERT INTO contributions ({", ".join(_NAMES)}, created_at)
    SELECT {", ".join(f"u.{n}" for n in _NAMES)}, :now::timestamptz FROM {unnest(_COLUMNS)}
    ON CONFLICT (person_id, month) DO UPDATE SET
      base_fen = excluded.base_fen, employer_fen = excluded.employer_fen,
      personal_fen = excluded.personal_fen, credited_fen = excluded.credited_fen,
      arrived_on = excluded.arrived_on, status = excluded.status,
      ledger_entry_id = COALESCE(contributions.ledger_entry_id, excluded.ledger_entry_id)
    """  # noqa: S608 - fixed fragments; values bound
)


async def recorded(
    session: AsyncSession, pairs: Sequence[tuple[int, str]]
) -> dict[tuple[int, str], Recorded]:
    """What is recorded for these person-months, by (person id, month)."""
    if not pairs:
        return {}
    db = await direct(session, transaction=True)
    if db.postgres:
        rows = await db.fetch(_RECORDED, **arrays(("person_id", "month"), pairs))
        return {
            (r["person_id"], r["month"]): Recorded(
                r["base_fen"], r["employer_fen"], r["personal_fen"], r["credited_fen"]
            )
            for r in rows
        }
    wanted = set(pairs)
    out: dict[tuple[int, str], Recorded] = {}
    ids = sorted({p for p, _ in pairs})
    months = sorted({m for _, m in pairs})
    c = _CONTRIBUTIONS.c
    for start in range(0, len(ids), _PER_LIST):
        stmt = select(
            c.person_id, c.month, c.base_fen, c.employer_fen, c.personal_fen, c.credited_fen
        ).where(c.person_id.in_(ids[start : start + _PER_LIST]), c.month.in_(months))
        for r in (await session.execute(stmt)).all():
            if (r.person_id, r.month) in wanted:
                out[(r.person_id, r.month)] = Recorded(
                    r.base_fen, r.employer_fen, r.personal_fen, r.credited_fen
                )
    return out


async def write(
    session: AsyncSession,
    records: Sequence[MonthRecord],
    now: datetime,
    *,
    together: Together | None = None,
) -> None:
    """New records, or the month's record replaced by its correction (the first entry it was
    credited by stays named). With `together` on PostgreSQL the write joins the batch's one
    statement instead of going at once."""
    if not records:
        return
    db = await direct(session, transaction=True)
    rows = [_row(r) for r in records]
    if db.postgres:
        params = {"now": now, **arrays(_NAMES, rows)}
        if together is not None:
            together.add(_WRITE.text, params)
        else:
            await db.execute(_WRITE, **params)
        return
    stmt = sqlite.insert(_CONTRIBUTIONS)
    stmt = stmt.on_conflict_do_update(
        index_elements=["person_id", "month"],
        set_={
            "base_fen": stmt.excluded.base_fen,
            "employer_fen": stmt.excluded.employer_fen,
            "personal_fen": stmt.excluded.personal_fen,
            "credited_fen": stmt.excluded.credited_fen,
            "arrived_on": stmt.excluded.arrived_on,
            "status": stmt.excluded.status,
            "ledger_entry_id": func.coalesce(
                _CONTRIBUTIONS.c.ledger_entry_id, stmt.excluded.ledger_entry_id
            ),
        },
    )
    await session.execute(
        stmt, [dict(zip(_NAMES, r, strict=True)) | {"created_at": now} for r in rows]
    )


def _row(r: MonthRecord) -> tuple[object, ...]:
    # By hand: dataclasses.astuple copies each value deeply, a quarter of a batch's Python time.
    return (
        r.person_id,
        r.month,
        r.base_fen,
        r.employer_fen,
        r.personal_fen,
        r.credited_fen,
        r.arrived_on,
        r.status,
        r.ledger_entry_id,
    )
