"""Fixtures shared by the integration tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.clusters import Cluster, two_clusters
from tests.support.two_regions import two_databases
from yibao.config import Settings, get_settings


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The `yibao` command's environment pointed at the test's database, keys and var/."""
    monkeypatch.setenv("YIBAO_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("YIBAO_DATA_KEY", settings.data_key)
    monkeypatch.setenv("YIBAO_ENVIRONMENT", "test")
    monkeypatch.setenv("YIBAO_VAR_DIR", str(settings.var_dir))
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def pg_clusters() -> Iterator[tuple[Cluster, Cluster]]:
    """Two PostgreSQL clusters of the tests' own, one per deployment (tests/support/clusters.py)."""
    with two_clusters() as found:
        yield found


@pytest.fixture(scope="module")
def pg_databases(pg_clusters: tuple[Cluster, Cluster]) -> Iterator[tuple[str, str]]:
    """A's database on one PostgreSQL cluster, B's on another."""
    a, b = pg_clusters
    yield from two_databases((a.admin_url, b.admin_url))


@pytest.fixture(params=["sqlite", "postgres"])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """Two databases, one per deployment: two PostgreSQL databases on two clusters (emptied for
    each test), or
    two copies of the migrated SQLite file."""
    if request.param == "postgres":
        found: tuple[str, str] = request.getfixturevalue("pg_databases")
        return found
    template: Path = request.getfixturevalue("sqlite_template")
    urls = []
    for side in ("a", "b"):
        path = tmp_path / f"{side}.sqlite3"
        shutil.copy(template, path)
        urls.append(f"sqlite+aiosqlite:///{path}")
    return urls[0], urls[1]
