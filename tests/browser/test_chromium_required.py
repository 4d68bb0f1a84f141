"""A browser journey without Chromium skips on a developer's machine (saying why) but fails under
CI=true, so a CI without the browser cannot pass by skipping every journey."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
JOURNEYS = ["tests/browser/test_claims_journey.py", "tests/web/browser/test_account_journey.py"]


def _run(journey: str, *, ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["YIBAO_TEST_CHROMIUM"] = str(ROOT / "no-such-chromium")
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", journey, "-q", "-rsf", "-p", "no:cacheprovider"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("journey", JOURNEYS)
def test_missing_chromium_fails_under_ci(journey: str) -> None:
    run = _run(journey, ci=True)
    assert run.returncode == 1, run.stdout[-2000:]
    assert "under CI=true the browser tests must run" in run.stdout, run.stdout[-2000:]
    assert "skipped" not in run.stdout.splitlines()[-1]


@pytest.mark.parametrize("journey", JOURNEYS)
def test_missing_chromium_skips_with_its_reason_elsewhere(journey: str) -> None:
    run = _run(journey, ci=False)
    assert run.returncode == 0, run.stdout[-2000:]
    assert "Debian chromium is not installed" in run.stdout, run.stdout[-2000:]
    assert "passed" not in run.stdout.splitlines()[-1]
