"""The composition root: one Runtime per process holds the engine, the session factory and the
adapters (cipher, clock, short-lived state). Every channel (web, fsi, cli, worker) builds one and
hands its parts to the use cases."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from yibao.config import Settings, get_settings
from yibao.db.engine import make_engine, make_session_factory
from yibao.db.ephemeral import EphemeralStore, make_ephemeral_store
from yibao.db.reference import reference_cache
from yibao.kernel.clock import Clock, SystemClock
from yibao.kernel.pii import PersonalDataCipher


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    cipher: PersonalDataCipher
    ephemeral: EphemeralStore
    clock: Clock = field(default_factory=SystemClock)

    async def close(self) -> None:
        from yibao.db.ephemeral import DatabaseEphemeralStore

        if (
            isinstance(self.ephemeral, DatabaseEphemeralStore)
            and self.ephemeral.engine is not self.engine
        ):
            await self.ephemeral.engine.dispose()
        await self.engine.dispose()


def build_runtime(settings: Settings | None = None, clock: Clock | None = None) -> Runtime:
    settings = settings or get_settings()
    engine = make_engine(
        settings.effective_database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pre_ping=settings.db_pre_ping,
    )
    reference_cache(engine).ttl = settings.reference_ttl_seconds
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        cipher=PersonalDataCipher(settings.data_key_bytes()),
        ephemeral=make_ephemeral_store(engine, settings.redis_url),
        clock=clock or SystemClock(),
    )
