"""Fixtures: a migrated database per test on SQLite and on PostgreSQL, a Runtime, an app client.

PostgreSQL: each pytest process migrates its own database once (`yibao_test_<pid>_<rand>`) and
truncates it between tests. SQLite: one migrated file per process, copied for each test.
Under CI=true an unreachable PostgreSQL fails the run instead of skipping.
The whole suite logs, as production does (yibao.logs), into one file; the run fails if that file
holds a password, an ID number, a phone or a bearer token once the tests are done.
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.leaks import SUITE_LOG, find_leaks
from yibao.config import Settings
from yibao.db.engine import make_engine
from yibao.db.migrate import upgrade
from yibao.kernel.clock import FixedClock
from yibao.logs import configure_logging
from yibao.runtime import Runtime, build_runtime

PG_ADMIN_URL = os.environ.get(
    "YIBAO_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
TEST_DATA_KEY = base64.b64encode(b"k" * 32).decode()

BACKENDS = ["sqlite", "postgres"]


def pytest_configure(config: pytest.Config) -> None:
    # Before any test (and any app) logs: every line of the run goes through production's setup.
    if not SUITE_LOG:
        path = Path(config.rootpath) / "test-artifacts" / f"suite-{os.getpid()}.log"
        path.parent.mkdir(exist_ok=True)
        SUITE_LOG.append(path)
        configure_logging("info", path.open("w", encoding="utf-8"))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for path in SUITE_LOG:
        leaks = find_leaks(path.read_text(encoding="utf-8"))
        if leaks:
            print(f"\n{len(leaks)} secret(s) in the suite's log {path}:", *leaks[:20], sep="\n")
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


async def _pg_admin(sql: str) -> None:
    engine = make_engine(PG_ADMIN_URL)
    try:
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    name = f"yibao_test_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to reach PostgreSQL
        if IN_CI:
            pytest.fail(f"PostgreSQL unreachable at {PG_ADMIN_URL} under CI=true: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "yibao.sqlite3"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


async def _truncate_all(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            rows = await conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                    " AND tablename <> 'alembic_version'"
                )
            )
            tables = [r[0] for r in rows]
            if tables:
                await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "postgres":
        url = str(request.getfixturevalue("postgres_url"))
        asyncio.run(_truncate_all(url))
        return url
    template: Path = request.getfixturevalue("sqlite_template")
    path = tmp_path / "yibao.sqlite3"
    shutil.copy(template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=db_url,
        data_key=TEST_DATA_KEY,
        secret_key="test-secret-key-" + "x" * 16,
        var_dir=tmp_path / "var",
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    rt = build_runtime(settings)
    yield rt
    await rt.close()


@pytest.fixture
async def session(runtime: Runtime) -> AsyncIterator[AsyncSession]:
    async with runtime.sessions() as s:
        yield s


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    from yibao.web.app import create_app

    app = create_app(runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def clock() -> FixedClock:
    """The clock `rt` runs on (now, to the second); a module that needs a set instant overrides
    this fixture."""
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
async def rt(settings: Settings, clock: FixedClock) -> AsyncIterator[Runtime]:
    """A runtime on `clock`, which the test moves."""
    runtime = build_runtime(settings, clock=clock)
    yield runtime
    await runtime.close()


@pytest.fixture
async def db(rt: Runtime) -> AsyncIterator[AsyncSession]:
    async with rt.sessions() as s:
        yield s
