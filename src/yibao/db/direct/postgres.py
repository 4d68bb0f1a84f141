"""PostgreSQL: statements straight to asyncpg on the session's connection, inside its transaction
when bound, and driver errors raised as SQLAlchemy raises its own (docs in the package)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import Connection, TextClause
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    ProgrammingError,
    SQLAlchemyError,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from yibao.db.direct.statement import OutsideTransaction, Row, Sql


class Postgres:
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
