"""Set-based writes for batch jobs (a province's monthly crediting): many rows per statement.

- `copy_rows`: on PostgreSQL the rows go in by `COPY` (asyncpg's binary copy) on the session's
  own connection and transaction; elsewhere (SQLite) as one multi-row insert through SQLAlchemy.
- `arrays`: a batch's columns as lists, for a statement that reads them with
  `unnest(:a::bigint[], :b::text[]) AS u(a, b)` (one statement for the whole batch on PostgreSQL,
  where SQLite takes one execution per row through SQLAlchemy Core).

Both join the session's transaction: nothing written here commits on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.db.direct import OutsideTransaction, Sql, direct

_BEGIN = Sql("SELECT 1 AS begun")


async def copy_rows(
    session: AsyncSession, table: Table, columns: Sequence[str], records: Sequence[tuple[Any, ...]]
) -> None:
    """`records` (tuples in the order of `columns`) into `table`, inside the session's transaction."""
    if not records:
        return
    db = await direct(session, transaction=True)
    if not db.postgres:
        await session.execute(insert(table), [dict(zip(columns, r, strict=True)) for r in records])
        return
    await db.fetch(
        _BEGIN
    )  # the first statement through SQLAlchemy's adapter begins the transaction
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    if driver is None or not driver.is_in_transaction():
        raise OutsideTransaction("COPY outside the session's transaction: refusing to run")
    await driver.copy_records_to_table(table.name, records=records, columns=list(columns))


def arrays(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> dict[str, list[Any]]:
    """Column name → that column of every row (the parameters of an `unnest` statement)."""
    return {name: [row[i] for row in rows] for i, name in enumerate(columns)}


def unnest(columns: Sequence[tuple[str, str]], alias: str = "u") -> str:
    """`unnest(:a::bigint[], :b::text[]) AS u(a, b)` for (name, PostgreSQL type) pairs."""
    casts = ", ".join(f":{name}::{kind}[]" for name, kind in columns)
    names = ", ".join(name for name, _ in columns)
    return f"unnest({casts}) AS {alias}({names})"
