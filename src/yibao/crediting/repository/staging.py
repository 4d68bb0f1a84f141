"""Loading a batch of a file's lines on PostgreSQL through a staging table. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, Column, Integer, MetaData, Table, Text
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.crediting.repository import LAST_LINE, REFUSAL_CASE, add_lines, resolve_new_lines
from yibao.db.bulk import copy_rows
from yibao.db.direct import Sql, direct

# A file's lines as a batch of them is loaded on PostgreSQL: COPY into this session's temporary
# table, then one INSERT … SELECT checks them against enrolment on the way into crediting_lines
# (each line written once, where COPY then UPDATE wrote it twice). Emptied at each commit.
STAGING_COLUMNS = (
    "file_index",
    "line_no",
    "id_number_hash",
    "id_number_masked",
    "month",
    "base_fen",
    "employer_fen",
    "personal_fen",
    "refusal",
    "detail",
)
_STAGING = Table(
    "crediting_staging",
    MetaData(),
    Column("file_index", Integer),
    Column("line_no", Integer),
    Column("id_number_hash", Text),
    Column("id_number_masked", Text),
    Column("month", Text),
    Column("base_fen", BigInteger),
    Column("employer_fen", BigInteger),
    Column("personal_fen", BigInteger),
    Column("refusal", Text),
    Column("detail", Text),
)
_STAGING_TABLE = Sql(
    """
    CREATE TEMPORARY TABLE IF NOT EXISTS crediting_staging (
      file_index integer, line_no integer, id_number_hash text, id_number_masked text,
      month text, base_fen bigint, employer_fen bigint, personal_fen bigint, refusal text,
      detail text
    ) ON COMMIT DELETE ROWS
    """
)
_ANALYZE_STAGING = Sql("ANALYZE crediting_staging")
_FROM_STAGING = Sql(
    f"""
    INSERT INTO crediting_lines (run_id, origin, file_index, line_no, id_number_hash,
      id_number_masked, month, base_fen, employer_fen, personal_fen, person_id, account_id,
      admdvs, employer_id, outcome, refusal, detail, credited_fen)
    SELECT :run, 'file', r.file_index, r.line_no, r.id_number_hash, r.id_number_masked, r.month,
      r.base_fen, r.employer_fen, r.personal_fen, r.person_id, r.account_id, r.admdvs,
      r.employer_id,
      CASE WHEN COALESCE(r.given, {REFUSAL_CASE}) IS NULL THEN 'checked' ELSE 'refused' END,
      COALESCE(r.given, {REFUSAL_CASE}), r.detail, 0
    FROM (
      SELECT s.file_index, s.line_no, s.id_number_hash, s.id_number_masked, s.month, s.base_fen,
        s.employer_fen, s.personal_fen, s.refusal AS given, s.detail, p.id AS person_id,
        e.insutype, e.psn_type, e.status, e.admdvs, e.employer_id, a.id AS account_id
      FROM crediting_staging s
      LEFT JOIN persons p ON s.refusal IS NULL AND p.id_number_hash = s.id_number_hash
      LEFT JOIN enrolments e ON e.person_id = p.id AND e.insutype = '310'
      LEFT JOIN personal_accounts a ON a.person_id = p.id
    ) AS r
    ORDER BY r.file_index, r.line_no
    """  # noqa: S608 - fixed fragments; values bound
)


async def load(
    session: AsyncSession,
    run_id: int,
    records: Sequence[tuple[Any, ...]],
    region: str | None,
    after: int,
) -> int:
    """A batch of a file's lines (tuples in the order of STAGING_COLUMNS; `refusal` set for a
    line refused on its own) into the run's lines, each checked against enrolment
    (`REFUSAL_CASE`); returns the run's last line id. PostgreSQL: COPY into the staging table
    and one INSERT … SELECT; elsewhere `add_lines`, then `resolve_new_lines` on the lines after
    line id `after`."""
    db = await direct(session, transaction=True)
    if not db.postgres:
        await add_lines(
            session,
            [
                (run_id, "file", *r[:8], "refused" if r[8] else "new", r[8], r[9], 0)
                for r in records
            ],
        )
        return await resolve_new_lines(session, run_id, after, region)
    if records:
        await db.execute(_STAGING_TABLE)
        await copy_rows(session, _STAGING, STAGING_COLUMNS, records)
        # Its numbers for the planner: probes by the persons' hash index, not a scan of them.
        await db.execute(_ANALYZE_STAGING)
        await db.execute(_FROM_STAGING, run=run_id, region=region)
    found = await db.fetchrow(LAST_LINE, run=run_id)
    return int(found["last"]) if found else after
