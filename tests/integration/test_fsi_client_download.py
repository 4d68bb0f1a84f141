"""`yibao fsi download 1301`: the reference client fetches a catalogue as a national client
would (13xx, then 9102 by file_qury_no) and says which version to send next time."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.support.live_server import live_server
from yibao.cli.demo_settlement import demo_token
from yibao.cli.main import app
from yibao.config import Settings


def test_download_writes_the_file_and_names_the_next_version(
    cli_env: Settings, tmp_path: Path
) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["demo", "--persons", "2", "--months", "1"])
    assert made.exit_code == 0, made.output
    with live_server(
        tmp_path, database_url=cli_env.database_url, data_key=cli_env.data_key
    ) as server:
        code = "P31010400101"
        connect = ["fsi", "--url", server.base_url, "--code", code, "--token", demo_token(code)]
        got = runner.invoke(app, [*connect, "download", "1301", "--out", str(tmp_path), "--json"])
        assert got.exit_code == 0, got.output
        first = json.loads(got.output[got.output.index("{") :])
        assert first["records"] == 6  # src/yibao/reference/demo/western.csv
        lines = Path(first["file"]).read_text(encoding="utf-8").splitlines()
        assert len(lines) == 6 and "阿莫西林胶囊" in lines[0]
        again = runner.invoke(
            app,
            [*connect, "download", "1301", "--ver", str(first["ver"]), "--out", str(tmp_path)]
            + ["--json"],
        )
        assert json.loads(again.output[again.output.index("{") :])["records"] == 0
