"""Set-based writes for batch jobs (a province's monthly crediting): many rows per statement.

- `copy_rows`: on PostgreSQL the rows go in by `COPY` (asyncpg's binary copy) on the session's
  own connection and transaction; elsewhere (SQLite) as one multi-row insert through SQLAlchemy.
- `arrays`: a batch's columns as lists, for a statement that reads them with
  `unnest(:a::bigint[], :b::text[]) AS u(a, b)` (one statement for the whole batch on PostgreSQL,
  where SQLite takes one execution per row through SQLAlchemy Core).

- `Together`: writes of one batch to several tables (each made by its owning feature's
  repository) sent as one statement of data-modifying CTEs on PostgreSQL: one round trip where
  each would take its own. Elsewhere the repositories write at once, as before.

All join the session's transaction: nothing written here commits on its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.db.direct import OutsideTransaction, Sql, direct

_BEGIN = Sql("SELECT 1 AS begun")
_PARAM = re.compile(r"(?<![:\w]):([a-zA-Z_]\w*)")


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


class Together:
    """Writes that go as one statement on PostgreSQL (`add` by each repository, `run` by the use
    case). The parts share one snapshot: no two of them may touch the same rows, and none reads
    what another writes. Each part's `:name` parameters are its own (renamed apart here)."""

    __slots__ = ("_params", "_parts")

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._params: dict[str, Any] = {}

    def add(self, sql: str, params: dict[str, Any]) -> None:
        prefix = f"w{len(self._parts)}_"
        self._parts.append(_PARAM.sub(lambda m: f":{prefix}{m.group(1)}", sql))
        self._params.update({prefix + name: value for name, value in params.items()})

    async def run(self, session: AsyncSession) -> None:
        """The parts added, in one statement (nothing when none was added)."""
        if not self._parts:
            return
        db = await direct(session, transaction=True)
        ctes = ",\n".join(f"w{n} AS ({sql})" for n, sql in enumerate(self._parts))
        await db.execute(Sql(f"WITH {ctes}\nSELECT 1"), **self._params)
        self._parts, self._params = [], {}
