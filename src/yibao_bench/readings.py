"""What a run reads off the machine and the database server: the hardware, the versions, the
server's settings that decide what a write costs, and the counters sampled around each workload
(transactions, buffer hits, WAL written and checkpoints)."""

from __future__ import annotations

import asyncio
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from yibao_bench import loadgen, server


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": model or platform.processor(),
        "cores": os.cpu_count(),
        "memory_gb": round(memory_gb, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def versions(admin_dsn: str) -> dict[str, str]:
    found = {}
    for package in (
        "fastapi",
        "starlette",
        "uvicorn",
        "sqlalchemy",
        "asyncpg",
        "pydantic",
        "numpy",
    ):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue

    async def pg() -> str:
        conn = await asyncpg.connect(admin_dsn)
        try:
            return str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()

    found["postgresql"] = asyncio.run(pg())
    for tool in ("wrk", "pgbench"):
        out = subprocess.run(  # noqa: S603 - our own tools, arguments we built
            [loadgen.tool(tool), "--version"], capture_output=True, text=True, check=False
        )
        found[tool] = (
            (out.stdout or out.stderr).splitlines()[0] if (out.stdout or out.stderr) else "?"
        )
    spy = server.py_spy()
    if spy:
        found["py-spy"] = subprocess.run(  # noqa: S603 - our own tools, arguments we built
            [spy, "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
    return found


# The server's settings that decide what a write costs it, shown in the report.
PG_SETTINGS = (
    "shared_buffers",
    "max_wal_size",
    "checkpoint_timeout",
    "wal_compression",
    "synchronous_commit",
    "full_page_writes",
)
# docs/tuning.md's settings that reload without a restart; `yibao-bench run --tuned` sets them on
# the server for the run (pgbench and yibao alike, so the ratio stays fair) and puts back what was
# there. shared_buffers needs a restart: set it by hand, the report shows it.
TUNING = {"wal_compression": "lz4", "checkpoint_timeout": "15min", "max_wal_size": "4GB"}


def tune(dsn: str, wanted: dict[str, str]) -> dict[str, str]:
    """Set `wanted` with ALTER SYSTEM and reload; the values they replace (for `untune`).
    wal_compression falls back to pglz on a server built without lz4."""

    async def run() -> dict[str, str]:
        conn = await asyncpg.connect(dsn)
        try:
            before = {
                r["name"]: r["value"]
                for r in await conn.fetch(
                    "SELECT name, current_setting(name) AS value FROM unnest($1::text[]) AS name",
                    list(wanted),
                )
            }
            for name, value in wanted.items():
                try:
                    await conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
                except asyncpg.PostgresError:
                    if name != "wal_compression":
                        raise
                    await conn.execute("ALTER SYSTEM SET wal_compression = 'pglz'")
            await conn.execute("SELECT pg_reload_conf()")
            return before
        finally:
            await conn.close()

    return asyncio.run(run())


def untune(dsn: str, before: dict[str, str]) -> None:
    tune(dsn, before)


# WAL is the server's, not one database's: the other databases are idle during a run.
_WAL = (
    "SELECT w.wal_records, w.wal_fpi, w.wal_bytes::bigint AS wal_bytes,"
    " b.checkpoints_timed + b.checkpoints_req AS checkpoints"
    " FROM pg_stat_wal w, pg_stat_bgwriter b"
)


async def db_counters(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT xact_commit, xact_rollback, blks_read, blks_hit, tup_fetched, tup_inserted,"
            " tup_updated FROM pg_stat_database WHERE datname = current_database()"
        )
        wal = await conn.fetchrow(_WAL)
        return {k: int(v) for k, v in [*dict(row).items(), *dict(wal).items()]}
    finally:
        await conn.close()


def delta(before: dict[str, int], after: dict[str, int], seconds: float) -> dict[str, Any]:
    d = {k: after[k] - before[k] for k in before}
    blocks = d["blks_read"] + d["blks_hit"]
    return {
        "commits_per_s": round(d["xact_commit"] / seconds, 1) if seconds else 0,
        "rollbacks": d["xact_rollback"],
        "buffer_hit_pct": round(100 * d["blks_hit"] / blocks, 2) if blocks else None,
        "blocks_read_per_s": round(d["blks_read"] / seconds, 1) if seconds else 0,
        **wal_delta(before, after),
    }


def wal_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {
        f"{k}_written": after[k] - before[k] for k in ("wal_records", "wal_fpi", "wal_bytes")
    } | {"checkpoints": after["checkpoints"] - before["checkpoints"]}


def pg_state(dsn: str) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        conn = await asyncpg.connect(dsn)
        try:
            rows = await conn.fetch(
                "SELECT name, current_setting(name) AS value FROM unnest($1::text[]) AS name",
                list(PG_SETTINGS),
            )
            settings = {r["name"]: r["value"] for r in rows}
            wal = await conn.fetchrow(_WAL)
            return {"settings": settings, "wal": {k: int(v) for k, v in dict(wal).items()}}
        finally:
            await conn.close()

    return asyncio.run(read())


def checkpoint(dsn: str) -> None:
    """Flush what earlier passes left dirty (`CHECKPOINT`), so a pass does not pay for the disk
    writes of the one before it."""

    async def run() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("CHECKPOINT")
        finally:
            await conn.close()

    asyncio.run(run())
