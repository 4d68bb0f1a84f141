"""db/direct/'s transaction guard: a statement sent to the driver joins the session's
transaction, or is refused; it never commits on its own."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from yibao.db.direct import OutsideTransaction, Sql, direct
from yibao.runtime import Runtime

_PUT = Sql(
    "INSERT INTO ephemeral_entries (key, value, expires_at) VALUES (:key, 'v', :at) RETURNING key"
)


async def _count(runtime: Runtime, key: str) -> int:
    async with runtime.sessions() as s:
        found = await s.scalar(
            text("SELECT count(*) FROM ephemeral_entries WHERE key = :k"), {"k": key}
        )
        return int(found or 0)


async def test_a_write_on_a_fresh_session_rolls_back_with_it(
    runtime: Runtime, session: AsyncSession
) -> None:
    # Nothing has been sent on this session yet: SQLAlchemy's driver adapter has no transaction.
    db = await direct(session, transaction=True)
    assert await db.fetchrow(_PUT, key="rolled-back", at=runtime.clock.now()) is not None
    await session.rollback()
    assert await _count(runtime, "rolled-back") == 0


async def test_a_write_commits_with_the_session(runtime: Runtime, session: AsyncSession) -> None:
    db = await direct(session, transaction=True)
    await db.fetchrow(_PUT, key="committed", at=runtime.clock.now())
    await session.execute(text("SELECT 1"))  # SQLAlchemy's statements join the same transaction
    await session.commit()
    assert await _count(runtime, "committed") == 1


async def test_a_held_connection_refuses_once_its_transaction_ended(
    runtime: Runtime, session: AsyncSession
) -> None:
    db = await direct(session, transaction=True)
    await session.commit()
    with pytest.raises(OutsideTransaction):
        await db.fetchrow(_PUT, key="after-commit", at=runtime.clock.now())
    # Asking again begins the next transaction.
    again = await direct(session, transaction=True)
    await again.fetchrow(_PUT, key="next", at=runtime.clock.now())
    await session.rollback()
    assert await _count(runtime, "after-commit") == 0
    assert await _count(runtime, "next") == 0


async def test_a_driver_error_is_raised_as_sqlalchemys(
    runtime: Runtime, session: AsyncSession
) -> None:
    """Callers tell a lost race by IntegrityError (the interface answers 数据被并发修改), as
    they would had SQLAlchemy sent the statement."""
    db = await direct(session, transaction=True)
    await db.fetchrow(_PUT, key="twice", at=runtime.clock.now())
    with pytest.raises(IntegrityError):
        await db.fetchrow(_PUT, key="twice", at=runtime.clock.now())
    await session.rollback()
    # And when it is the first statement of a transaction (the one that begins it).
    await (await direct(session, transaction=True)).fetchrow(
        _PUT, key="first", at=runtime.clock.now()
    )
    await session.commit()
    again = await direct(session, transaction=True)
    with pytest.raises(IntegrityError):
        await again.fetchrow(_PUT, key="first", at=runtime.clock.now())
    await session.rollback()


_READ = Sql("SELECT count(*) AS n FROM ephemeral_entries")


async def _terminate(runtime: Runtime, *pids: int) -> None:
    """From a connection of its own, outside the pool under test."""
    other = create_async_engine(runtime.engine.url, poolclass=NullPool)
    try:
        async with other.begin() as conn:
            for pid in pids:
                await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await other.dispose()


async def _backend_pid(session: AsyncSession) -> int:
    db = await direct(session)
    row = await db.fetchrow(Sql("SELECT pg_backend_pid() AS pid"))
    assert row is not None
    return int(row["pid"])


@pytest.mark.parametrize("transaction", [False, True], ids=["read", "write"])
async def test_a_lost_connection_is_raised_invalidated_and_the_pool_dropped(
    runtime: Runtime, backend: str, transaction: bool
) -> None:
    """What fsi/router.py and web/sessions.py retry on: a DBAPIError with
    `connection_invalidated`, and a retry that finds no dead connection in the pool."""
    if backend != "postgres":
        pytest.skip("SQLite is a file in the process: no connection to lose")
    async with runtime.sessions() as session:
        pid = await _backend_pid(session)
        async with runtime.sessions() as pooled:  # a second connection, back in the pool dead
            pooled_pid = await _backend_pid(pooled)
        assert pooled_pid != pid
        db = await direct(session, transaction=transaction)
        if transaction:
            await db.fetchrow(_READ)  # begun: the next statement goes to the driver
        await _terminate(runtime, pid, pooled_pid)
        with pytest.raises(DBAPIError) as raised:
            await db.fetchrow(_READ)
        assert raised.value.connection_invalidated
    async with runtime.sessions() as retried:  # as the retry sites do
        again = await direct(retried, transaction=transaction)
        assert await again.fetchrow(_READ) is not None
        assert await _backend_pid(retried) not in {pid, pooled_pid}


async def test_a_lost_connection_on_the_first_statement_is_raised_invalidated(
    runtime: Runtime, backend: str
) -> None:
    """The first statement of a transaction goes through SQLAlchemy's adapter (it begins the
    transaction): a lost connection there is raised the same way."""
    if backend != "postgres":
        pytest.skip("SQLite is a file in the process: no connection to lose")
    async with runtime.sessions() as session:
        pid = await _backend_pid(session)
        await session.commit()  # the connection goes back to the pool, idle
    async with runtime.sessions() as session:
        db = await direct(session, transaction=True)
        await _terminate(runtime, pid)
        with pytest.raises(DBAPIError) as raised:
            await db.fetchrow(_READ)
        assert raised.value.connection_invalidated
