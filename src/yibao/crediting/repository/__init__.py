"""Queries on crediting runs and their lines. Never commits.

The checks and totals are set-based: one statement over a batch of lines (or the whole run),
written once for both databases (`Sql`); lines go in by COPY on PostgreSQL (`db/bulk.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.crediting.domain import OPEN_STATES, Outcome, Refusal
from yibao.crediting.tables import CreditingLine, CreditingRun, CreditingTotal
from yibao.db.bulk import Together, arrays, copy_rows, unnest
from yibao.db.direct import Row, Sql, direct

LINE_COLUMNS = (
    "run_id",
    "origin",
    "file_index",
    "line_no",
    "id_number_hash",
    "id_number_masked",
    "month",
    "base_fen",
    "employer_fen",
    "personal_fen",
    "outcome",
    "refusal",
    "detail",
    "credited_fen",
)

_LINES = cast(Table, CreditingLine.__table__)


async def run(session: AsyncSession, run_id: int, *, lock: bool = False) -> CreditingRun | None:
    stmt = select(CreditingRun).where(CreditingRun.id == run_id)
    if lock:
        stmt = stmt.with_for_update()
    return (
        await session.execute(stmt.execution_options(populate_existing=True))
    ).scalar_one_or_none()


async def open_run(session: AsyncSession) -> CreditingRun | None:
    stmt = select(CreditingRun).where(CreditingRun.state.in_([s.value for s in OPEN_STATES]))
    return (await session.execute(stmt)).scalars().first()


async def recent_runs(session: AsyncSession, limit: int = 30) -> list[CreditingRun]:
    stmt = select(CreditingRun).order_by(CreditingRun.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def add_lines(session: AsyncSession, records: Sequence[tuple[Any, ...]]) -> None:
    """Lines in the order of LINE_COLUMNS."""
    await copy_rows(session, _LINES, LINE_COLUMNS, records)


REFUSAL_CASE = """CASE
      WHEN r.person_id IS NULL THEN 'not_enrolled'
      WHEN r.insutype IS NULL THEN 'not_employee'
      WHEN r.status <> '1' THEN 'not_active'
      WHEN r.psn_type IN ('1201', '1300') THEN 'retiree_in_file'
      WHEN CAST(:region AS VARCHAR(6)) IS NOT NULL AND r.admdvs <> :region THEN 'other_region'
      WHEN r.account_id IS NULL THEN 'no_account'
    END"""

# Each new line of the batch against enrolment: the person by the keyed hash of the ID number,
# their employee insurance (310), their account; refused with the first reason that holds.
_RESOLVE = Sql(
    f"""
    UPDATE crediting_lines AS l SET
      person_id = r.person_id, account_id = r.account_id, admdvs = r.admdvs,
      employer_id = r.employer_id,
      refusal = {REFUSAL_CASE},
      outcome = CASE WHEN ({REFUSAL_CASE}) IS NULL THEN 'checked' ELSE 'refused' END
    FROM (
      SELECT n.id AS line_id, p.id AS person_id, e.insutype, e.psn_type, e.status, e.admdvs,
             e.employer_id, a.id AS account_id
      FROM crediting_lines n
      LEFT JOIN persons p ON p.id_number_hash = n.id_number_hash
      LEFT JOIN enrolments e ON e.person_id = p.id AND e.insutype = '310'
      LEFT JOIN personal_accounts a ON a.person_id = p.id
      WHERE n.run_id = :run AND n.id > :after AND n.outcome = 'new'
    ) AS r
    WHERE l.id = r.line_id
    """  # noqa: S608 - fixed fragments; values bound
)
LAST_LINE = Sql("SELECT COALESCE(MAX(id), 0) AS last FROM crediting_lines WHERE run_id = :run")


async def resolve_new_lines(
    session: AsyncSession, run_id: int, after: int, region: str | None
) -> int:
    """Check the lines loaded after line id `after`; returns the run's last line id."""
    db = await direct(session, transaction=True)
    await db.execute(_RESOLVE, run=run_id, after=after, region=region)
    found = await db.fetchrow(LAST_LINE, run=run_id)
    return int(found["last"]) if found else after


# Every line of a person-month named more than once in the run's files: none can be trusted.
# A join with the doubled pairs (a row-value IN is planned as a subplan per line on PostgreSQL).
_DUPLICATES = Sql(
    """
    UPDATE crediting_lines AS l SET outcome = 'refused', refusal = 'duplicate'
    FROM (
      SELECT person_id, month FROM crediting_lines
      WHERE run_id = :run AND origin = 'file' AND person_id IS NOT NULL
      GROUP BY person_id, month HAVING COUNT(*) > 1
    ) AS d
    WHERE l.run_id = :run AND l.outcome = 'checked'
      AND l.person_id = d.person_id AND l.month = d.month
    """
)
# The lines were just loaded: give the planner their numbers before the set-based steps.
_ANALYZE = Sql("ANALYZE crediting_lines")


async def refuse_duplicates(session: AsyncSession, run_id: int) -> None:
    db = await direct(session, transaction=True)
    if db.postgres:
        await db.execute(_ANALYZE)
    await db.execute(_DUPLICATES, run=run_id)


# Retirees contribute nothing: the run credits each one in normal status from enrolment.
_RETIREES = Sql(
    """
    INSERT INTO crediting_lines (run_id, origin, file_index, line_no, month, base_fen,
      employer_fen, personal_fen, person_id, account_id, admdvs, outcome, credited_fen)
    SELECT :run, 'retiree', 0, 0, :month, 0, 0, 0, e.person_id, a.id, e.admdvs, 'checked', 0
    FROM enrolments e JOIN personal_accounts a ON a.person_id = e.person_id
    WHERE e.insutype = '310' AND e.psn_type IN ('1201', '1300') AND e.status = '1'
      AND e.begin_date <= :month_end
      AND (CAST(:region AS VARCHAR(6)) IS NULL OR e.admdvs = :region)
    ORDER BY e.person_id
    """
)


async def add_retirees(
    session: AsyncSession, run_id: int, month: str, month_end: date, region: str | None
) -> None:
    db = await direct(session, transaction=True)
    # SQLite compares the ISO text it stores dates as.
    end: date | str = month_end if db.postgres else month_end.isoformat()
    await db.execute(_RETIREES, run=run_id, month=month, month_end=end, region=region)


@dataclass(frozen=True, slots=True)
class CheckedLine:
    id: int
    origin: str
    person_id: int
    account_id: int
    admdvs: str
    month: str
    base_fen: int
    employer_fen: int
    personal_fen: int


_CHECKED = Sql(
    """
    SELECT id, origin, person_id, account_id, admdvs, month, base_fen, employer_fen, personal_fen
    FROM crediting_lines
    WHERE run_id = :run AND id > :after AND outcome = 'checked'
    ORDER BY id LIMIT :limit
    """
)


async def checked_lines(
    session: AsyncSession, run_id: int, after: int, limit: int
) -> list[CheckedLine]:
    db = await direct(session, transaction=True)
    rows = await db.fetch(_CHECKED, run=run_id, after=after, limit=limit)
    return [
        CheckedLine(
            r["id"],
            r["origin"],
            r["person_id"],
            r["account_id"],
            r["admdvs"],
            r["month"],
            r["base_fen"],
            r["employer_fen"],
            r["personal_fen"],
        )
        for r in rows
    ]


_OUTCOME_COLUMNS = (
    ("line", "bigint"),
    ("outcome", "text"),
    ("refusal", "text"),
    ("detail", "text"),
    ("credited", "bigint"),
)
_SET_OUTCOMES = Sql(
    f"""
    UPDATE crediting_lines AS l SET outcome = u.outcome, refusal = u.refusal,
      detail = u.detail, credited_fen = u.credited
    FROM {unnest(_OUTCOME_COLUMNS)} WHERE l.id = u.line
    """  # noqa: S608 - fixed fragments; values bound
)


@dataclass(frozen=True, slots=True)
class LineOutcome:
    line_id: int
    outcome: Outcome
    refusal: Refusal | None
    detail: str | None
    credited_fen: int


async def set_outcomes(
    session: AsyncSession, outcomes: Sequence[LineOutcome], *, together: Together | None = None
) -> None:
    """Each line's outcome (with `together` on PostgreSQL: in the batch's one statement)."""
    if not outcomes:
        return
    rows = [
        (
            o.line_id,
            o.outcome.value,
            o.refusal.value if o.refusal else None,
            o.detail,
            o.credited_fen,
        )
        for o in outcomes
    ]
    db = await direct(session, transaction=True)
    if db.postgres:
        params = arrays([n for n, _ in _OUTCOME_COLUMNS], rows)
        if together is not None:
            together.add(_SET_OUTCOMES.text, params)
        else:
            await db.execute(_SET_OUTCOMES, **params)
        return
    table = _LINES
    await session.execute(
        update(table)
        .where(table.c.id == bindparam("line"))
        .values(
            outcome=bindparam("o_outcome"),
            refusal=bindparam("o_refusal"),
            detail=bindparam("o_detail"),
            credited_fen=bindparam("o_credited"),
        ),
        [
            {
                "line": r[0],
                "o_outcome": r[1],
                "o_refusal": r[2],
                "o_detail": r[3],
                "o_credited": r[4],
            }
            for r in rows
        ],
    )


_CLEAR_TOTALS = Sql("DELETE FROM crediting_totals WHERE run_id = :run")
_TOTALS = Sql(
    """
    INSERT INTO crediting_totals (run_id, admdvs, employer_id, origin, lines, credited_count,
      credited_fen, unchanged_count, refused_count)
    SELECT run_id, admdvs, employer_id, origin, COUNT(*),
      SUM(CASE WHEN outcome = 'credited' THEN 1 ELSE 0 END), SUM(credited_fen),
      SUM(CASE WHEN outcome IN ('unchanged', 'arrears') THEN 1 ELSE 0 END),
      SUM(CASE WHEN outcome = 'refused' THEN 1 ELSE 0 END)
    FROM crediting_lines WHERE run_id = :run
    GROUP BY run_id, admdvs, employer_id, origin
    """
)
_RUN_SUMS = Sql(
    """
    SELECT COALESCE(SUM(lines), 0) AS lines, COALESCE(SUM(credited_count), 0) AS credited_count,
      COALESCE(SUM(credited_fen), 0) AS credited_fen,
      COALESCE(SUM(unchanged_count), 0) AS unchanged_count,
      COALESCE(SUM(refused_count), 0) AS refused_count
    FROM crediting_totals WHERE run_id = :run
    """
)


async def write_totals(session: AsyncSession, run_id: int) -> Row:
    """The run's totals per region and employer, written again from its lines; the run's sums."""
    db = await direct(session, transaction=True)
    await db.execute(_CLEAR_TOTALS, run=run_id)
    await db.execute(_TOTALS, run=run_id)
    found = await db.fetchrow(_RUN_SUMS, run=run_id)
    assert found is not None
    return found


_PROGRESS = Sql(
    """
    SELECT COUNT(*) AS lines,
      SUM(CASE WHEN outcome IN ('new', 'checked') THEN 0 ELSE 1 END) AS done
    FROM crediting_lines WHERE run_id = :run
    """
)


async def progress(session: AsyncSession, run_id: int) -> tuple[int, int]:
    db = await direct(session)
    found = await db.fetchrow(_PROGRESS, run=run_id)
    if found is None:
        return 0, 0
    return int(found["lines"] or 0), int(found["done"] or 0)


async def totals(session: AsyncSession, run_id: int) -> list[CreditingTotal]:
    stmt = (
        select(CreditingTotal)
        .where(CreditingTotal.run_id == run_id)
        .order_by(CreditingTotal.admdvs, CreditingTotal.origin, CreditingTotal.employer_id)
    )
    return list((await session.execute(stmt)).scalars())


_REFUSED = Sql(
    """
    SELECT id, origin, file_index, line_no, id_number_masked, month, refusal, detail
    FROM crediting_lines
    WHERE run_id = :run AND id > :after AND outcome = 'refused'
    ORDER BY id LIMIT :limit
    """
)


async def refused_lines(
    session: AsyncSession, run_id: int, after: int, limit: int
) -> Sequence[Row]:
    db = await direct(session)
    return await db.fetch(_REFUSED, run=run_id, after=after, limit=limit)
