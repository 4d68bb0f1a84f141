"""Engines and sessions. One session per use case; the use case commits once (rule 3).

SQLite is the embedded default. Its writers are serialised with BEGIN IMMEDIATE so that "lock the
row, check the balance, write" means the same there as SELECT … FOR UPDATE does on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def make_engine(
    url: str, *, pool_size: int = 10, max_overflow: int = 10, pre_ping: bool = False
) -> AsyncEngine:
    """No ping before each checkout by default: on asyncpg it is three round trips (BEGIN, a
    query, ROLLBACK) for every use case. A connection the server dropped fails its first
    statement instead; SQLAlchemy then discards the whole pool, and the institution interface
    retries the message once (fsi/router.py)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        url, pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=pre_ping
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL is a property of the file, kept once set: only a file not yet in it is switched
        # (migrations create the database in WAL; db/ephemeral.py its side file).
        cursor.execute("PRAGMA journal_mode")
        if str(cursor.fetchone()[0]).lower() != "wal":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def is_postgres(session_or_engine: AsyncSession | AsyncEngine) -> bool:
    if isinstance(session_or_engine, AsyncSession):
        return session_or_engine.get_bind().dialect.name == "postgresql"
    return session_or_engine.dialect.name == "postgresql"
