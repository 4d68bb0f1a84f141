"""db/direct.py's transaction guard: a statement sent to the driver joins the session's
transaction, or is refused; it never commits on its own."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

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
