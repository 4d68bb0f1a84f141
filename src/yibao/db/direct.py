"""Hand-written SQL straight to the driver, for the few paths every request takes.

Through SQLAlchemy a statement costs the server process about 0.25 ms of CPU (statement cache
key, greenlet hop, cursor adapter, result processing); asyncpg alone about 0.05 ms. The account
pages, the API and the session check behind every signed-in request run a handful of statements
each, so on PostgreSQL they go to asyncpg directly (docs/benchmarks.md measures the difference).

- `Sql` is one statement with `:name` parameters, written once, run on both databases: on
  PostgreSQL rewritten to `$1…` for asyncpg (which prepares and caches it per connection); on
  SQLite through SQLAlchemy's `text()` on the session's own connection and transaction.
- `direct(session)` borrows the session's connection. On PostgreSQL the statements run outside
  SQLAlchemy's unit of work: a session that has not yet sent anything has no transaction open, so
  each statement is its own snapshot — put what must agree into one statement.
- Values in and out are what asyncpg gives: aware UTC datetimes, ints, strs, bools. The SQLite
  side converts the columns a statement names in `datetimes`/`booleans` to match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from yibao.db.types import UTCDateTime

Row = Mapping[str, Any]

_PARAM = re.compile(r"(?<![:\w]):([a-zA-Z_]\w*)")


class Sql:
    """One statement; `:name` parameters, each used any number of times."""

    __slots__ = ("booleans", "datetimes", "order", "pg_text", "text")

    def __init__(
        self, sql: str, *, datetimes: Iterable[str] = (), booleans: Iterable[str] = ()
    ) -> None:
        self.text = sql
        self.datetimes = frozenset(datetimes)
        self.booleans = frozenset(booleans)
        order: list[str] = []

        def number(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in order:
                order.append(name)
            return f"${order.index(name) + 1}"

        self.pg_text = _PARAM.sub(number, sql)
        self.order = tuple(order)


class Direct(Protocol):
    async def fetch(self, sql: Sql, **params: Any) -> Sequence[Row]: ...

    async def fetchrow(self, sql: Sql, **params: Any) -> Row | None: ...

    async def execute(self, sql: Sql, **params: Any) -> None: ...


class _Postgres:
    __slots__ = ("_conn",)

    def __init__(self, conn: Any) -> None:
        self._conn = conn  # asyncpg.Connection

    def _args(self, sql: Sql, params: dict[str, Any]) -> list[Any]:
        return [params[name] for name in sql.order]

    async def fetch(self, sql: Sql, **params: Any) -> Sequence[Row]:
        rows: Sequence[Row] = await self._conn.fetch(sql.pg_text, *self._args(sql, params))
        return rows

    async def fetchrow(self, sql: Sql, **params: Any) -> Row | None:
        row: Row | None = await self._conn.fetchrow(sql.pg_text, *self._args(sql, params))
        return row

    async def execute(self, sql: Sql, **params: Any) -> None:
        await self._conn.execute(sql.pg_text, *self._args(sql, params))


class _Portable:
    """Any other database (SQLite): the same text through SQLAlchemy, with its column types."""

    __slots__ = ("_clauses", "_conn")

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._clauses: dict[tuple[str, frozenset[str]], TextClause] = {}

    def _clause(self, sql: Sql, params: dict[str, Any]) -> TextClause:
        stamped = frozenset(k for k, v in params.items() if isinstance(v, datetime))
        key = (sql.text, stamped)
        clause = self._clauses.get(key)
        if clause is None:
            clause = text(sql.text).bindparams(
                *(bindparam(name, type_=UTCDateTime()) for name in sorted(stamped))
            )
            self._clauses[key] = clause
        return clause

    def _convert(self, sql: Sql, row: Mapping[Any, Any]) -> dict[str, Any]:
        out = dict(row)
        for name in sql.datetimes:
            value = out.get(name)
            if isinstance(value, str):
                value = datetime.fromisoformat(value)
            if isinstance(value, datetime):
                out[name] = value.replace(tzinfo=UTC) if value.tzinfo is None else value
        for name in sql.booleans:
            if out.get(name) is not None:
                out[name] = bool(out[name])
        return out

    async def fetch(self, sql: Sql, **params: Any) -> Sequence[Row]:
        result = await self._conn.execute(self._clause(sql, params), params)
        return [self._convert(sql, row) for row in result.mappings()]

    async def fetchrow(self, sql: Sql, **params: Any) -> Row | None:
        rows = await self.fetch(sql, **params)
        return rows[0] if rows else None

    async def execute(self, sql: Sql, **params: Any) -> None:
        await self._conn.execute(self._clause(sql, params), params)


_CACHED = "yibao.direct"


async def direct(session: AsyncSession) -> Direct:
    """The session's connection, for `Sql` statements (see the module's note on transactions).

    Kept on the session for as long as its transaction (and so its connection) lasts: a request
    asks for it several times."""
    transaction = session.get_transaction()
    cached = session.info.get(_CACHED)
    if cached is not None and transaction is not None and cached[0] is transaction:
        found: Direct = cached[1]
        return found
    conn = await session.connection()
    made: Direct
    if conn.dialect.name == "postgresql":
        raw = await conn.get_raw_connection()
        made = _Postgres(raw.driver_connection)
    else:
        made = _Portable(conn)
    session.info[_CACHED] = (session.get_transaction(), made)
    return made
