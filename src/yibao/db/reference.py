"""Reference data kept in each process for a few seconds: institutions, regions, the catalogue.

Only rows that an operator changes, rarely and by hand — never a balance, a quota or anything a
settlement writes (those are read, and locked, in the use case's own transaction). Each engine
has its own cache, so two databases in one process (the tests) never share an entry. A use case
that changes such a row forgets it once it has committed, so this process sees the change at
once; other processes see it when the entry expires (`ttl`, a few seconds). Readers that find a
cached value disagreeing with what a caller presents (a new sign_no, a rotated token) read the
row again before refusing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

DEFAULT_TTL_SECONDS = 10.0
MAX_ENTRIES = 50_000  # per namespace: the whole catalogue fits, a flood of unknown codes does not


class ReferenceCache:
    def __init__(
        self, ttl: float = DEFAULT_TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, dict[Hashable, tuple[float, Any]]] = {}

    def get(self, namespace: str, key: Hashable) -> tuple[bool, Any]:
        """(found, value); a value may itself be None (a known absence)."""
        entry = self._entries.get(namespace, {}).get(key)
        if entry is None or entry[0] <= self._clock():
            return False, None
        return True, entry[1]

    def put(self, namespace: str, key: Hashable, value: Any) -> None:
        if self.ttl <= 0:
            return
        entries = self._entries.setdefault(namespace, {})
        if len(entries) >= MAX_ENTRIES:
            entries.clear()
        entries[key] = (self._clock() + self.ttl, value)

    def forget(self, namespace: str, key: Hashable | None = None) -> None:
        if key is None:
            self._entries.pop(namespace, None)
        else:
            self._entries.get(namespace, {}).pop(key, None)


_caches: WeakKeyDictionary[Engine, ReferenceCache] = WeakKeyDictionary()


def reference_cache(bound: AsyncSession | AsyncEngine) -> ReferenceCache:
    """The cache of the database this session (or engine) talks to."""
    engine = bound.sync_engine if isinstance(bound, AsyncEngine) else bound.bind.sync_engine  # type: ignore[union-attr]
    cache = _caches.get(engine)
    if cache is None:
        cache = _caches[engine] = ReferenceCache()
    return cache
