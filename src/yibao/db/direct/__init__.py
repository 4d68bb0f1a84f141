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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import attributes, util

from yibao.db.direct.postgres import Postgres
from yibao.db.direct.statement import Direct, OutsideTransaction, Row, Sql
from yibao.db.types import UTCDateTime

__all__ = [
    "Direct",
    "OutsideTransaction",
    "Row",
    "Sql",
    "Step",
    "direct",
    "flush_pending",
    "loaded_moved",
    "values_rows",
    "write_steps",
]


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
    found: Postgres | _Portable
    if conn.dialect.name == "postgresql":
        raw = await conn.get_raw_connection()
        # PEP 249's `autocommit`, which SQLAlchemy's asyncpg adapter keeps.
        if transaction and getattr(raw.dbapi_connection, "autocommit", False):
            raise OutsideTransaction("an autocommit connection: a write would commit on its own")
        found = Postgres(raw.driver_connection, conn, bound=transaction)
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
