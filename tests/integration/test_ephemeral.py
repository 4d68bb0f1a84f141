"""Rule 11's store behaves the same on the database and on Redis."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from yibao.db.ephemeral import DatabaseEphemeralStore, EphemeralStore, RedisEphemeralStore
from yibao.runtime import Runtime

REDIS_URL = os.environ.get("YIBAO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(params=["database", "redis"])
async def store(request: pytest.FixtureRequest, runtime: Runtime) -> AsyncIterator[EphemeralStore]:
    if request.param == "database":
        assert isinstance(runtime.ephemeral, DatabaseEphemeralStore)
        yield runtime.ephemeral
        return
    redis_store = RedisEphemeralStore(REDIS_URL)
    try:
        await redis_store._redis.flushdb()
    except Exception as exc:  # noqa: BLE001
        if os.environ.get("CI"):
            pytest.fail(f"Redis unreachable at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis unreachable at {REDIS_URL}: {exc}")
    yield redis_store
    await redis_store._redis.aclose()


async def test_put_get_delete_and_expiry(store: EphemeralStore) -> None:
    await store.put("k", "v", timedelta(seconds=30))
    assert await store.get("k") == "v"
    await store.delete("k")
    assert await store.get("k") is None
    await store.put("short", "v", timedelta(milliseconds=50))
    await asyncio.sleep(0.2)
    assert await store.get("short") is None


async def test_add_only_once_even_when_racing(store: EphemeralStore) -> None:
    results = await asyncio.gather(
        *(store.add("nonce", "1", timedelta(seconds=30)) for _ in range(10))
    )
    assert sum(results) == 1


async def test_incr_counts_within_window(store: EphemeralStore) -> None:
    counts = [await store.incr("rate", timedelta(seconds=30)) for _ in range(3)]
    assert counts == [1, 2, 3]


async def test_usable_inside_an_open_transaction(runtime: Runtime) -> None:
    """A use case may check a code while it holds its own transaction (SQLite locks per file)."""
    from sqlalchemy import text

    async with runtime.sessions() as s:
        await s.execute(text("SELECT 1"))  # the transaction is open from here
        await asyncio.wait_for(runtime.ephemeral.put("inside", "1", timedelta(seconds=5)), 5)
        assert await runtime.ephemeral.get("inside") == "1"


async def test_incr_counts_every_racing_increment(store: EphemeralStore) -> None:
    """Several processes failing at once must all count (the per-address sign-in throttle)."""
    counts = await asyncio.gather(*(store.incr("racing", timedelta(seconds=30)) for _ in range(12)))
    assert sorted(counts) == list(range(1, 13))


async def test_incr_restarts_an_expired_count_once_even_when_racing(store: EphemeralStore) -> None:
    for _ in range(3):
        await store.incr("stale", timedelta(milliseconds=50))
    await asyncio.sleep(0.2)
    counts = await asyncio.gather(*(store.incr("stale", timedelta(seconds=30)) for _ in range(8)))
    assert sorted(counts) == list(range(1, 9))
    # The new window's expiry came with its first increment: the count is still there.
    assert await store.get("stale") == "8"
