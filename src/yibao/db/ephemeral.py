"""Short-lived shared state (rule 11): SMS codes, rate limits, gateway nonces, step-up windows.

One small interface with two implementations: the database (the default, so a single machine
needs nothing else) and Redis (when YIBAO_REDIS_URL is set, so several processes or machines
agree). Server processes keep none of this in memory.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple, Protocol

from sqlalchemy import BigInteger, String, Text, bindparam, case, cast, delete, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.dml import ReturningInsert

from yibao.db.base import Base
from yibao.db.direct import Sql, direct
from yibao.db.types import UTCDateTime


class EphemeralEntry(Base):
    """On PostgreSQL an UNLOGGED table (migration 0015_settlement_write_cost): nothing here
    outlives its minutes, so none of it is worth a WAL record. A crash empties it: nonces seen
    before it may be replayed once, which finds the message's answer already stored
    (fsi_messages, logged) and acts no twice; SMS codes and counters start again."""

    __tablename__ = "ephemeral_entries"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class EphemeralStore(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def put(self, key: str, value: str, ttl: timedelta) -> None: ...

    async def add(self, key: str, value: str, ttl: timedelta) -> bool:
        """Set only if absent (or expired); True when this call set it."""
        ...

    async def add_in(self, session: AsyncSession, key: str, value: str, ttl: timedelta) -> bool:
        """`add` inside the session's transaction when the store lives in that database, so the
        key commits or rolls back with the caller's work (and costs no connection of its own);
        on its own otherwise."""
        ...

    async def incr(self, key: str, ttl: timedelta) -> int:
        """Count up; the window starts with the first increment and lasts `ttl`."""
        ...

    async def delete(self, key: str) -> None: ...


def _now() -> datetime:
    return datetime.now(UTC)


class DatabaseEphemeralStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def get(self, key: str) -> str | None:
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(
                    select(EphemeralEntry.value, EphemeralEntry.expires_at).where(
                        EphemeralEntry.key == key
                    )
                )
            ).first()
        if row is None:
            return None
        expires = row.expires_at
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        return None if expires <= _now() else str(row.value)

    async def put(self, key: str, value: str, ttl: timedelta) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(delete(EphemeralEntry).where(EphemeralEntry.key == key))
            await conn.execute(
                insert(EphemeralEntry).values(key=key, value=value, expires_at=_now() + ttl)
            )

    async def add(self, key: str, value: str, ttl: timedelta) -> bool:
        async with self._engine.begin() as conn:
            claim = _claim(self._engine.dialect.name, key, value, ttl)
            return (await conn.execute(claim.statement, claim.params)).first() is not None

    async def add_in(self, session: AsyncSession, key: str, value: str, ttl: timedelta) -> bool:
        if session.bind is not self._engine:
            return await self.add(key, value, ttl)
        # On the driver, and so inside the caller's transaction (it begins it if need be).
        db = await direct(session, transaction=True)
        now = _now()
        claimed = await db.fetchrow(_CLAIM, key=key, value=value, expires=now + ttl, now=now)
        return claimed is not None

    async def incr(self, key: str, ttl: timedelta) -> int:
        # One statement, so two processes counting at once both count: the unique key makes the
        # second insert wait for the first and then add to its row. (Reading the row FOR UPDATE and
        # then writing lost a count on PostgreSQL when the row had expired: the waiting reader saw
        # the deleted copy vanish, not the new one, and wrote 1 over it.)
        now = _now()
        params = {"key": key, "expires": now + ttl, "now": now}
        async with self._engine.begin() as conn:
            row = (await conn.execute(_count_statement(self._engine.dialect.name), params)).one()
        return int(row[0])

    async def delete(self, key: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(delete(EphemeralEntry).where(EphemeralEntry.key == key))

    async def purge_expired(self) -> int:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(EphemeralEntry).where(EphemeralEntry.expires_at <= _now())
            )
        return int(getattr(result, "rowcount", 0) or 0)


def _claim(dialect: str, key: str, value: str, ttl: timedelta) -> _Claim:
    now = _now()
    return _Claim(
        _claim_statement(dialect), {"key": key, "value": value, "expires": now + ttl, "now": now}
    )


_CLAIM = Sql(
    """
    INSERT INTO ephemeral_entries (key, value, expires_at) VALUES (:key, :value, :expires)
    ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
    WHERE ephemeral_entries.expires_at <= :now
    RETURNING key
    """
)


class _Claim(NamedTuple):
    statement: ReturningInsert[tuple[str]]
    params: dict[str, object]


@lru_cache(maxsize=4)
def _claim_statement(dialect: str) -> ReturningInsert[tuple[str]]:
    """One statement: insert the key, or take over an expired copy; a row back means it is ours.

    A live copy is left alone (no row back). Two claims of one key at once: the second waits for
    the first to commit and then finds the copy live. Built once (bound parameters): building a
    statement costs more than running it.
    """
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(EphemeralEntry).values(
        key=bindparam("key"), value=bindparam("value"), expires_at=bindparam("expires")
    )
    return stmt.on_conflict_do_update(
        index_elements=[EphemeralEntry.key],
        set_={"value": stmt.excluded.value, "expires_at": stmt.excluded.expires_at},
        where=EphemeralEntry.expires_at <= bindparam("now"),
    ).returning(EphemeralEntry.key)


@lru_cache(maxsize=4)
def _count_statement(dialect: str) -> ReturningInsert[str]:
    """One statement: insert the key at 1, add 1 to a live copy, or restart an expired one at 1
    with a fresh expiry (the window starts with its first increment)."""
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(EphemeralEntry).values(
        key=bindparam("key"), value="1", expires_at=bindparam("expires")
    )
    expired = EphemeralEntry.expires_at <= bindparam("now")
    return stmt.on_conflict_do_update(
        index_elements=[EphemeralEntry.key],
        set_={
            "value": case(
                (expired, "1"),
                else_=cast(cast(EphemeralEntry.value, BigInteger) + 1, Text),
            ),
            "expires_at": case(
                (expired, stmt.excluded.expires_at), else_=EphemeralEntry.expires_at
            ),
        },
    ).returning(EphemeralEntry.value)


class RedisEphemeralStore:
    def __init__(self, url: str) -> None:
        import redis.asyncio as redis_asyncio

        self._redis = redis_asyncio.from_url(url, decode_responses=True)

    async def get(self, key: str) -> str | None:
        value = await self._redis.get(key)
        return None if value is None else str(value)

    async def put(self, key: str, value: str, ttl: timedelta) -> None:
        await self._redis.set(key, value, px=int(ttl.total_seconds() * 1000))

    async def add(self, key: str, value: str, ttl: timedelta) -> bool:
        return bool(await self._redis.set(key, value, px=int(ttl.total_seconds() * 1000), nx=True))

    async def add_in(self, session: AsyncSession, key: str, value: str, ttl: timedelta) -> bool:
        return await self.add(key, value, ttl)

    async def incr(self, key: str, ttl: timedelta) -> int:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.pexpire(key, int(ttl.total_seconds() * 1000), nx=True)
            count, _ = await pipe.execute()
        return int(count)

    async def delete(self, key: str) -> None:
        await self._redis.delete(key)


def make_ephemeral_store(engine: AsyncEngine, redis_url: str = "") -> EphemeralStore:
    if redis_url:
        return RedisEphemeralStore(redis_url)
    if engine.dialect.name == "sqlite":
        return DatabaseEphemeralStore(_sqlite_side_engine(engine))
    return DatabaseEphemeralStore(engine)


_SIDE_TABLE = (
    "CREATE TABLE IF NOT EXISTS ephemeral_entries (key VARCHAR(200) PRIMARY KEY,"
    " value TEXT NOT NULL, expires_at DATETIME NOT NULL)"
)


def _prepare_side_file(path: str) -> None:
    """Make the side file, in WAL, with its table, before any pooled connection opens it.

    Two processes starting together (server workers, or two runtimes in a test) would otherwise
    race to switch a new file's journal to WAL, and SQLite refuses the loser at once ("database is
    locked") instead of waiting: here the loser tries again a moment later. Start-up only."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(100):
        try:
            with closing(sqlite3.connect(path, timeout=30)) as conn:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(_SIDE_TABLE)
                conn.commit()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 99:
                raise
            time.sleep(0.02)


def _sqlite_side_engine(engine: AsyncEngine) -> AsyncEngine:
    """SQLite locks the whole database per writer: a use case holding its transaction while it
    checks an SMS code in the same file would wait on itself. Short-lived state therefore lives in
    a file of its own beside the database (`…-ephemeral.sqlite3`), made with the store."""
    from sqlalchemy import event

    from yibao.db.engine import make_engine

    database = engine.url.database or ""
    if database not in {"", ":memory:"}:
        path = database.rsplit(".", 1)[0] + "-ephemeral.sqlite3"
        _prepare_side_file(path)
        return make_engine(str(engine.url.set(database=path)))
    side = make_engine("sqlite+aiosqlite:///:memory:")

    @event.listens_for(side.sync_engine, "connect")
    def _create_table(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute(_SIDE_TABLE)  # each connection to :memory: is a database of its own
        cursor.close()

    return side
