"""The database server ending connections, as a restart does (PostgreSQL only)."""

from __future__ import annotations

from sqlalchemy import text

from yibao.db.engine import make_engine


async def end_every_connection(url: str) -> int:
    """Terminate every other connection to the database at `url`; how many were ended."""
    admin = make_engine(url)
    try:
        async with admin.connect() as conn:
            ended = await conn.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
    finally:
        await admin.dispose()
    return int(ended or 0)
