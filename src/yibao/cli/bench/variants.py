"""What-if variants of the app, served only by the benchmark's comparison pass.

Each variant changes one thing the report proposes, so its effect is measured in the same run as
the app as it is. Nothing here is used outside `yibao bench run`.
"""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def _engine_without_pre_ping(
    url: str, *, pool_size: int = 10, max_overflow: int = 10, pre_ping: bool = False
) -> AsyncEngine:
    # SQLAlchemy's asyncpg ping is BEGIN; ";"; ROLLBACK on every checkout: three round trips
    # per session, two or three sessions per request. Stale connections are retired by age.
    return create_async_engine(
        url, pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=False, pool_recycle=1800
    )


def create_app_without_pre_ping() -> FastAPI:
    """The app with `pool_pre_ping` off (proposal: db/engine.py `make_engine`)."""
    import yibao.runtime as runtime_module

    # The runtime builds its engine through this name; the variant replaces it for this process.
    setattr(runtime_module, "make_engine", _engine_without_pre_ping)  # noqa: B010
    # Named by string and loaded by uvicorn's importer, as `yibao serve` names the app: the
    # delivery layers (cli, web) stay independent of each other.
    from uvicorn.importer import import_from_string

    create_app = import_from_string(APP)
    app: FastAPI = create_app()
    return app


APP = "yibao.web.app:create_app"
VARIANTS = {"no-pre-ping": "yibao.cli.bench.variants:create_app_without_pre_ping"}
