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
  each statement is its own snapshot — put what must agree into one statement. Fit for reads only:
  a write sent that way would commit on its own, whatever the use case does next.
- `direct(session, transaction=True)` is for use cases that write or lock: unless the driver is
  already in the session's transaction, its first statement goes through the DBAPI cursor of
  SQLAlchemy's asyncpg adapter, which begins the transaction before it (so the session's commit or
  rollback ends it); every statement checks that the session's transaction on this connection is
  still the one it joined, refusing to run otherwise (after the session committed, say). A write
  can therefore never autocommit. Public API only (issue #16): no adapter internals.
- `FOR UPDATE [OF t]` is dropped on SQLite, which has no row locks (db/engine.py serialises its
  writers with BEGIN IMMEDIATE instead). `Step`s are writes that belong together: one statement of
  data-modifying CTEs on PostgreSQL, one statement each elsewhere (SQLite has no such CTEs).
- Values in and out are what asyncpg gives: aware UTC datetimes, dates, ints, strs, bools. The
  SQLite side converts the columns a statement names in `datetimes`/`dates`/`booleans` to match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, NoReturn, Protocol

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import Connection, TextClause, bindparam, text
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    ProgrammingError,
    SQLAlchemyError,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import attributes, util

from yibao.db.types import UTCDateTime

Row = Mapping[str, Any]

_PARAM = re.compile(r"(?<![:\w]):([a-zA-Z_]\w*)")
_FOR_UPDATE = re.compile(r"\s+FOR\s+UPDATE(\s+OF\s+\w+)?", re.IGNORECASE)


class OutsideTransaction(RuntimeError):
    """A statement that must join the use case's transaction found none open."""


class Sql:
    """One statement; `:name` parameters, each used any number of times."""

    __slots__ = ("booleans", "dates", "datetimes", "order", "pg_text", "portable_text", "text")

    def __init__(
        self,
        sql: str,
        *,
        datetimes: Iterable[str] = (),
        booleans: Iterable[str] = (),
        dates: Iterable[str] = (),
    ) -> None:
        self.text = sql
        self.portable_text = _FOR_UPDATE.sub("", sql)
        self.datetimes = frozenset(datetimes)
        self.booleans = frozenset(booleans)
        self.dates = frozenset(dates)
        order: list[str] = []

        def number(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in order:
                order.append(name)
            return f"${order.index(name) + 1}"

        self.pg_text = _PARAM.sub(number, sql)
        self.order = tuple(order)


class Direct(Protocol):
    postgres: bool

    async def fetch(self, sql: Sql, **params: Any) -> Sequence[Row]: ...

    async def fetchrow(self, sql: Sql, **params: Any) -> Row | None: ...

    async def execute(self, sql: Sql, **params: Any) -> None: ...


class _Postgres:
    __slots__ = ("_begun", "_bound", "_conn", "_owner", "_root")
    postgres = True

    def __init__(self, conn: Any, owner: AsyncConnection, *, bound: bool) -> None:
        self._conn = conn  # asyncpg.Connection
        self._owner = owner
        self._bound = bound
        # Bound: to the session's transaction on this connection as it is now (SQLAlchemy's
        # RootTransaction; its commit or rollback makes it inactive or replaces it).
        sync = owner.sync_connection
        self._root = sync.get_transaction() if bound and sync is not None else None
        # SQLAlchemy's asyncpg adapter begins the driver's transaction on its first statement;
        # only it begins transactions on these connections, so a driver in one is in the
        # adapter's. Until then statements go through the adapter (`_through_adapter`).
        self._begun = bound and conn.is_in_transaction()

    def usable(self) -> bool:
        if not self._bound:
            return True
        sync = self._owner.sync_connection
        return (
            self._root is not None
            and self._root.is_active
            and sync is not None
            and not sync.invalidated
            and sync.get_transaction() is self._root
            and (not self._begun or self._conn.is_in_transaction())
        )

    async def _run(self, call: str, sql: Sql, params: dict[str, Any]) -> Any:
        if not self.usable():
            raise OutsideTransaction("the session's transaction has ended; refusing to run")
        args = [params[name] for name in sql.order]
        if self._bound and not self._begun:
            return await self._through_adapter(call, sql, args)
        try:
            return await getattr(self._conn, call)(sql.pg_text, *args)
        except Exception as exc:
            await _raised_as_sqlalchemys(self._owner, self._conn, exc, sql.pg_text)

    async def _through_adapter(self, call: str, sql: Sql, args: list[Any]) -> Any:
        """The first statement of a bound connection, on the DBAPI cursor of SQLAlchemy's
        adapter (PEP 249, not SQLAlchemy's execution: no statement cache key, no events): the
        adapter begins its transaction before it, so the session's commit or rollback ends
        that very transaction. No round trip more than the driver's own BEGIN and statement."""
        try:
            rows = await self._owner.run_sync(_cursor_rows, sql.pg_text, args)
        except Exception as exc:
            await _raised_as_sqlalchemys(self._owner, self._conn, exc, sql.pg_text)
        if not self._conn.is_in_transaction():
            # An autocommit connection: the adapter began nothing. Never reached by yibao's
            # engine (no autocommit isolation); refused before any write in `direct`.
            raise OutsideTransaction("no transaction could be begun (autocommit connection?)")
        self._begun = True
        if call == "fetch":
            return rows
        if call == "fetchrow":
            return rows[0] if rows else None
        return None

    async def fetch(self, sql: Sql, **params: Any) -> Sequence[Row]:
        rows: Sequence[Row] = await self._run("fetch", sql, params)
        return rows

    async def fetchrow(self, sql: Sql, **params: Any) -> Row | None:
        row: Row | None = await self._run("fetchrow", sql, params)
        return row

    async def execute(self, sql: Sql, **params: Any) -> None:
        await self._run("execute", sql, params)


def _cursor_rows(sync: Connection, statement: str, args: list[Any]) -> list[Row]:
    cursor = sync.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(statement, args)
        if not cursor.description:
            return []
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        cursor.close()


# A driver error as SQLAlchemy raises its own statements' (callers tell a lost race by
# IntegrityError); the first match in order, as SQLAlchemy's asyncpg dialect maps them.
_ERRORS: tuple[tuple[type[BaseException], type[DBAPIError]], ...] = (
    (asyncpg.exceptions.IntegrityConstraintViolationError, IntegrityError),
    (asyncpg.exceptions.SyntaxOrAccessError, ProgrammingError),
    (asyncpg.exceptions.InternalServerError, InternalError),
    (asyncpg.exceptions.InternalClientError, InternalError),
    (asyncpg.exceptions.InterfaceError, InterfaceError),
    (asyncpg.exceptions.InvalidCachedStatementError, NotSupportedError),
    (asyncpg.exceptions.PostgresError, DBAPIError),
)


async def _raised_as_sqlalchemys(
    owner: AsyncConnection, driver: Any, exc: Exception, statement: str
) -> NoReturn:
    """Raise a driver's error as SQLAlchemy raises its own statements' errors.

    A lost connection (the driver closed it) is left for SQLAlchemy to find: one statement of
    its own on the same connection fails at once, and SQLAlchemy does what it does for its own
    statements (documented, "Dealing with Disconnects"): the connection and every connection
    pooled before it are invalidated, and the DBAPIError says `connection_invalidated`, which
    fsi/router.py and web/sessions.py retry once on a fresh connection."""
    if driver.is_closed():
        try:
            await owner.exec_driver_sql("SELECT 1")
        except DBAPIError as lost:
            if lost.connection_invalidated:
                raise lost from exc
        except SQLAlchemyError:
            pass
        # SQLAlchemy did not find it lost (its connection already invalidated, say): drop
        # this connection ourselves and say so.
        await owner.invalidate(exc)
        raise InterfaceError(statement, None, exc, connection_invalidated=True) from exc
    dialect = owner.dialect
    if isinstance(exc, dialect.loaded_dbapi.Error):  # raised by SQLAlchemy's adapter
        raise DBAPIError.instance(
            statement, None, exc, dialect.loaded_dbapi.Error, dialect=dialect
        ) from exc
    for driver_error, wrapped in _ERRORS:
        if isinstance(exc, driver_error):
            raise wrapped(statement, None, exc) from exc
    raise exc


_CLAUSES: dict[tuple[str, frozenset[str]], TextClause] = {}


class _Portable:
    """Any other database (SQLite): the same text through SQLAlchemy, with its column types."""

    __slots__ = ("_conn", "_transactional")
    postgres = False

    def __init__(self, conn: AsyncConnection, *, transactional: bool = False) -> None:
        self._conn = conn
        self._transactional = transactional

    def usable(self) -> bool:
        sync = self._conn.sync_connection
        return sync is not None and not sync.closed and sync.in_transaction()

    def _check(self) -> None:
        if self._transactional and not self.usable():
            raise OutsideTransaction("the session's transaction has ended; refusing to run")

    def _clause(self, sql: Sql, params: dict[str, Any]) -> TextClause:
        stamped = frozenset(k for k, v in params.items() if isinstance(v, datetime))
        key = (sql.portable_text, stamped)
        clause = _CLAUSES.get(key)
        if clause is None:
            clause = text(sql.portable_text).bindparams(
                *(bindparam(name, type_=UTCDateTime()) for name in sorted(stamped))
            )
            if len(_CLAUSES) < 10_000:
                _CLAUSES[key] = clause
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
        for name in sql.dates:
            if isinstance(out.get(name), str):
                out[name] = date.fromisoformat(out[name])
        return out

    async def fetch(self, sql: Sql, **params: Any) -> Sequence[Row]:
        self._check()
        used = {name: params[name] for name in sql.order}
        result = await self._conn.execute(self._clause(sql, used), used)
        return [self._convert(sql, row) for row in result.mappings()]

    async def fetchrow(self, sql: Sql, **params: Any) -> Row | None:
        rows = await self.fetch(sql, **params)
        return rows[0] if rows else None

    async def execute(self, sql: Sql, **params: Any) -> None:
        self._check()
        used = {name: params[name] for name in sql.order}
        await self._conn.execute(self._clause(sql, used), used)


_IN_TRANSACTION = "yibao.direct.in_transaction"


_READS = "yibao.direct.reads"


async def direct(session: AsyncSession, *, transaction: bool = False) -> Direct:
    """The session's connection, for `Sql` statements (see the module's note on transactions).

    Kept on the session while its transaction (and so its connection) lasts: a request asks for
    it several times."""
    if transaction:
        held = session.info.get(_IN_TRANSACTION)
        if held is not None and held.usable():
            return held  # type: ignore[no-any-return]
    else:
        current = session.get_transaction()
        cached = session.info.get(_READS)
        if cached is not None and current is not None and cached[0] is current:
            return cached[1]  # type: ignore[no-any-return]
    conn = await session.connection()
    found: _Postgres | _Portable
    if conn.dialect.name == "postgresql":
        raw = await conn.get_raw_connection()
        # PEP 249's `autocommit`, which SQLAlchemy's asyncpg adapter keeps.
        if transaction and getattr(raw.dbapi_connection, "autocommit", False):
            raise OutsideTransaction("an autocommit connection: a write would commit on its own")
        found = _Postgres(raw.driver_connection, conn, bound=transaction)
    else:
        found = _Portable(conn, transactional=transaction)
        if transaction and not found.usable():
            raise OutsideTransaction("the session's connection has no transaction open")
    if transaction:
        session.info[_IN_TRANSACTION] = found
    else:
        session.info[_READS] = (session.get_transaction(), found)
    return found


@dataclass(frozen=True, slots=True)
class Step:
    """One of several writes that belong together. `{name}` in `sql` stands for the id an earlier
    step returned; a step that `returns` ends with `RETURNING id`."""

    name: str
    sql: str
    returns: bool = False


async def write_steps(
    db: Direct, steps: tuple[Step, ...], *, combine: bool = True, **params: Any
) -> dict[str, int]:
    """Run `steps` in order as one unit; the ids the returning steps gave, by step name.

    PostgreSQL: one statement (one round trip) of data-modifying CTEs. Its parts share one
    snapshot, so steps that touch the same row must pass `combine=False` (one statement each,
    as on any other database).
    """
    if db.postgres and combine:
        row = await db.fetchrow(_combined(steps), **params)
        assert row is not None
        return {step.name: row[step.name] for step in steps if step.returns}
    ids: dict[str, int] = {}
    for step, sql in zip(steps, _separate(steps), strict=True):
        for name, value in ids.items():
            params[f"{name}_id"] = value
        if step.returns:
            found = await db.fetchrow(sql, **params)
            assert found is not None
            ids[step.name] = found["id"]
        else:
            await db.execute(sql, **params)
    return ids


@lru_cache(maxsize=256)
def _combined(steps: tuple[Step, ...]) -> Sql:
    refs = {step.name: f"(SELECT id FROM {step.name})" for step in steps if step.returns}
    parts = ",\n".join(f"{step.name} AS ({step.sql.format(**refs)})" for step in steps)
    results = ", ".join(f"{ref} AS {name}" for name, ref in refs.items()) or "1 AS done"
    return Sql(f"WITH {parts}\nSELECT {results}")


@lru_cache(maxsize=256)
def _separate(steps: tuple[Step, ...]) -> tuple[Sql, ...]:
    refs = {step.name: f":{step.name}_id" for step in steps if step.returns}
    return tuple(Sql(step.sql.format(**refs)) for step in steps)


def values_rows(prefix: str, columns: Sequence[str], count: int, *lead: str) -> str:
    """`(:p0_a, :p0_b), (:p1_a, :p1_b)…` for a multi-row VALUES; `lead` goes first in each row."""
    return ", ".join(
        "(" + ", ".join([*lead, *(f":{prefix}{n}_{c}" for c in columns)]) + ")"
        for n in range(count)
    )


def loaded_moved(session: AsyncSession, mapped: type[Any], key: Any, **values: Any) -> None:
    """Moves a row the session may hold in memory to what a direct write just stored, so the
    session neither shows the old values nor flushes them back."""
    held_rows = session.sync_session.identity_map
    if not held_rows:  # the interface's sessions hold none: nothing to look up
        return
    held = held_rows.get(util.identity_key(mapped, key))
    if held is not None:
        for name, value in values.items():
            attributes.set_committed_value(held, name, value)


async def flush_pending(session: AsyncSession) -> None:
    """Flush what the session holds unwritten, if anything: direct statements leave nothing
    there, and even an empty flush costs a hop into SQLAlchemy's greenlet."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
