"""`yibao fsi selftest` against a real server on SQLite and on PostgreSQL: every step of both
tiers passes, and the table names what is still missing (what CI runs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support.live_server import live_server
from yibao.cli.demo import DEMO_ID_NUMBER
from yibao.cli.demo_settlement import demo_token
from yibao.cli.fsi_client import FsiClient
from yibao.cli.main import app
from yibao.cli.selftest import must_pass, run_suite, steps_of
from yibao.cli.selftest.command import DEMO_CODES
from yibao.cli.selftest.registry import TIERS, Run
from yibao.config import Settings


def test_selftest_passes_for_both_tiers(cli_env: Settings, tmp_path: Path) -> None:
    made = CliRunner().invoke(app, ["demo", "--persons", "4", "--months", "2"])
    assert made.exit_code == 0, made.output
    with live_server(
        tmp_path, database_url=cli_env.database_url, data_key=cli_env.data_key
    ) as server:
        for tier in TIERS:
            code = DEMO_CODES[tier]
            client = FsiClient(server.base_url, code, demo_token(code), region="310000")
            report = run_suite(Run(client, tier, DEMO_ID_NUMBER, ()))
            failed = [(o.step.infno, o.detail) for o in report.outcomes if o.status != "pass"]
            assert not failed, (tier, failed)
            assert [o.step.infno for o in report.outcomes] == [s.infno for s in steps_of(tier)]
            # Every must-pass transaction of the tier is answered and passes (#22).
            assert not report.missing, [t.infno for t in report.missing]
            assert len(report.answered) == len(report.listed)

            shown = CliRunner().invoke(
                app, ["fsi", "selftest", "--tier", tier, "--base", server.base_url]
            )
            assert shown.exit_code == 0, shown.output
            assert "失败" not in shown.output
            listed = len(report.listed)
            assert (
                f"必验交易（{tier}）：{listed} 项，已通过 {listed} 项，尚未实现 0 项"
                in shown.output
            )

        # A wrong token: the gateway refuses every step, and the exit code says so.
        refused = CliRunner().invoke(
            app,
            [
                "fsi",
                "selftest",
                "--tier",
                "pharmacy",
                "--base",
                server.base_url,
                "--token",
                "x" * 32,
            ],
        )
        assert refused.exit_code == 1, refused.output
        assert "网关认证失败" in refused.output


@pytest.mark.parametrize("tier", TIERS)
def test_the_packaged_list_counts_the_issue_s_totals(tier: str) -> None:
    counts = {"pharmacy": 51, "clinic": 59}
    assert len(must_pass(tier)) == counts[tier]  # type: ignore[arg-type]
