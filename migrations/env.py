"""Alembic environment: async engines for SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from yibao.config import get_settings
from yibao.db.engine import make_engine

config = context.config
if config.config_file_name and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name)


def _metadata():  # type: ignore[no-untyped-def]
    """Every feature's tables, so `alembic check` and autogenerate see the whole schema."""
    import importlib

    from yibao.db.base import Base

    for module in TABLE_MODULES:
        importlib.import_module(module)
    return Base.metadata


# One line per feature that owns tables.
TABLE_MODULES = [
    "yibao.db.ephemeral",
    "yibao.enrolment.tables",
    "yibao.ledger.tables",
    "yibao.contributions.tables",
    "yibao.notifications.tables",
    "yibao.audit.tables",
    "yibao.claims.tables",
    "yibao.identity.tables",
    "yibao.settlement.tables",
    "yibao.family.tables",
    "yibao.crediting.tables",
    "yibao.reference.tables",
    "yibao.files.tables",
    "yibao.calls.tables",
    "yibao.kiosks.tables",
    "yibao.partners.tables",
    "yibao.filings.tables",
    "yibao.crossregion.tables",
    "yibao.settlement_vouchers.tables",
    "yibao.prescriptions.tables",
    "yibao.stock.tables",
    "yibao.auditrules.tables",
]

target_metadata = _metadata()


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    return url or get_settings().effective_database_url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = make_engine(_url())
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
