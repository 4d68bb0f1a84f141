"""A server started without configuration is production (issue #24, item 5): it refuses to start
without its keys and says so in one line, with no traceback, and makes no keys of its own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from yibao.cli.main import app
from yibao.config import MissingSecret, Settings, get_settings

runner = CliRunner()


@pytest.fixture
def bare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An environment with no YIBAO_* variable and no .env: what a fresh clone starts with."""
    for name in list(os.environ):
        if name.startswith("YIBAO_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.mark.parametrize("command", [["serve"], ["demo", "--persons", "1"], ["worker", "--once"]])
def test_a_bare_start_asks_for_the_keys(bare: Path, command: list[str]) -> None:
    result = runner.invoke(app, command)
    assert result.exit_code == 2, result.output
    assert "YIBAO_DATA_KEY is not set" in result.output
    assert "YIBAO_ENVIRONMENT=development" in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert not (bare / "var" / "data.key").exists()


def test_development_only_when_asked(bare: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(MissingSecret):
        Settings().data_key_bytes()
    monkeypatch.setenv("YIBAO_ENVIRONMENT", "development")
    assert len(Settings().data_key_bytes()) == 32
    assert (bare / "var" / "data.key").exists()
