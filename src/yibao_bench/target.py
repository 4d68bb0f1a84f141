"""Where the bench writes: its own PostgreSQL databases, its own keys, its own result files.

Bench data never goes near `test` or the application's database: each size has a database of
its own (`yibao_bench_1m`, `yibao_bench_100k`, …; `YIBAO_BENCH_DATABASE_PREFIX` replaces
`yibao_bench`, so two checkouts on one server keep their worlds apart) and the load records what
it made in the database's comment, so `yibao-bench run` can check it found a complete world.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from yibao.config import Settings

DEFAULT_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
PREFIX_VARIABLE = "YIBAO_BENCH_DATABASE_PREFIX"
ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = ROOT / "var" / "bench"


def database_prefix() -> str:
    """What the bench's database names start with: `yibao_bench` unless the environment says."""
    prefix = os.environ.get(PREFIX_VARIABLE, "") or "yibao_bench"
    if not prefix.replace("_", "").isalnum() or not prefix[0].isalpha():
        raise ValueError(f"{PREFIX_VARIABLE} must be letters, digits and '_': {prefix!r}")
    return prefix


def pgbench_database() -> str:
    """The yardstick's own database (pgbench's tables, also the floor's)."""
    return f"{database_prefix()}_pgbench"


def size_label(persons: int) -> str:
    if persons >= 1_000_000 and persons % 1_000_000 == 0:
        return f"{persons // 1_000_000}m"
    if persons >= 1_000 and persons % 1_000 == 0:
        return f"{persons // 1_000}k"
    return str(persons)


@dataclass(frozen=True)
class Target:
    admin_url: str
    database: str

    @classmethod
    def for_persons(cls, persons: int, database: str | None = None) -> Target:
        admin = os.environ.get("YIBAO_BENCH_POSTGRES_URL", DEFAULT_ADMIN_URL)
        return cls(admin, database or f"{database_prefix()}_{size_label(persons)}")

    @property
    def url(self) -> str:
        return self.admin_url.rsplit("/", 1)[0] + f"/{self.database}"

    @property
    def dsn(self) -> str:
        return self.url.replace("postgresql+asyncpg://", "postgresql://")

    @property
    def admin_dsn(self) -> str:
        return self.admin_url.replace("postgresql+asyncpg://", "postgresql://")

    async def recreate(self) -> None:
        if self.database in {"test", "postgres", "yibao", "template0", "template1"}:
            raise ValueError(f"refusing to overwrite database {self.database!r}")
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            await conn.close()

    async def describe(self) -> dict[str, Any] | None:
        """What the last load recorded, or None when the database is missing, incomplete or
        made under other migrations (`worlds.bring_up_to_date` migrates such a world)."""
        found = await self.recorded()
        if not found.get("complete") or found.get("schema") != schema_fingerprint():
            return None
        return found

    async def recorded(self) -> dict[str, Any]:
        """What the last load (or upgrade) recorded in the database's comment, whatever schema
        it was made under; empty when there is no such database or no record."""
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            comment = await conn.fetchval(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
                self.database,
            )
        finally:
            await conn.close()
        if not comment:
            return {}
        try:
            found = json.loads(comment)
        except ValueError:
            return {}
        return found if isinstance(found, dict) else {}

    async def record(self, facts: dict[str, Any]) -> None:
        conn = await asyncpg.connect(self.admin_dsn)
        try:
            text = json.dumps(facts, ensure_ascii=False).replace("'", "''")
            await conn.execute(f"COMMENT ON DATABASE \"{self.database}\" IS '{text}'")
        finally:
            await conn.close()


def schema_fingerprint() -> str:
    """A digest of the migrations, so a world loaded under an older schema is not mistaken for
    a current one (a revision edited in place keeps its id)."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "migrations" / "versions").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def bench_keys() -> tuple[str, str]:
    """The data and secret keys of bench worlds: the environment's, or ones kept under var/bench."""
    data = os.environ.get("YIBAO_DATA_KEY", "")
    secret = os.environ.get("YIBAO_SECRET_KEY", "")
    if data and secret:
        return data, secret
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path = BENCH_DIR / "keys.json"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(
                {
                    "data_key": base64.b64encode(secrets.token_bytes(32)).decode(),
                    "secret_key": secrets.token_urlsafe(32),
                },
                handle,
            )
    keys = json.loads(path.read_text())
    return data or str(keys["data_key"]), secret or str(keys["secret_key"])


def bench_settings(target: Target, *, pool_size: int = 10) -> Settings:
    data_key, secret_key = bench_keys()
    return Settings(
        environment="production",
        database_url=target.url,
        data_key=data_key,
        secret_key=secret_key,
        var_dir=BENCH_DIR,
        db_pool_size=pool_size,
        db_max_overflow=pool_size,
        _env_file=None,
    )


def server_environment(target: Target, *, pool_size: int) -> dict[str, str]:
    data_key, secret_key = bench_keys()
    env = dict(os.environ)
    env.update(
        {
            "YIBAO_ENVIRONMENT": "production",
            "YIBAO_DATABASE_URL": target.url,
            "YIBAO_DATA_KEY": data_key,
            "YIBAO_SECRET_KEY": secret_key,
            "YIBAO_VAR_DIR": str(BENCH_DIR),
            "YIBAO_DB_POOL_SIZE": str(pool_size),
            "YIBAO_DB_MAX_OVERFLOW": str(pool_size),
            "YIBAO_LOG_LEVEL": "warning",
        }
    )
    return env
