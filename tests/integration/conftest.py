"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.clusters import Cluster, two_clusters
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
