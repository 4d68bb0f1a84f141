"""Shared by the browser journeys: where Chromium is, when a missing one fails the run, and the
accessibility check (axe-core, shipped inside the axe-playwright-python package) each journey runs
after each navigation, in the page's own mode and in the other one (standard and 长辈版)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("YIBAO_TEST_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
ELDER_COOKIE = "yibao_elder"
# WCAG failures axe rates serious or critical fail a journey; moderate and minor ones are advice.
FAILING_IMPACTS = {"serious", "critical"}


def require_chromium() -> None:
    """Skip outside CI when Debian's Chromium is missing; under CI=true that is a failure."""
    if Path(CHROMIUM).exists():
        return
    reason = f"Debian chromium is not installed at {CHROMIUM}"
    if IN_CI:
        pytest.fail(f"{reason}; under CI=true the browser tests must run", pytrace=False)
    pytest.skip(reason)


def violations(page: Any) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now, one line per node."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {node['target']} {node.get('failureSummary', '')[:160]}"
        for v in found
        if v.get("impact") in FAILING_IMPACTS
        for node in v["nodes"]
    ]


def _elder(page: Any) -> bool:
    return "elder" in (page.get_attribute("body", "class") or "").split()


def assert_accessible(page: Any, *, both_modes: bool = True) -> None:
    """Run axe on the page; with both_modes, open the same address in the other mode too (a
    second tab of the same context, so the journey's own page and state are left alone). A page
    that answered a form shows another page at its address: check it with both_modes=False."""
    page.wait_for_load_state("load")
    problems = violations(page)
    assert not problems, f"{page.url} ({'长辈版' if _elder(page) else '标准版'}):\n" + "\n".join(
        problems
    )
    if not both_modes:
        return
    context = page.context
    before = _elder(page)
    url = page.url.split("#", 1)[0]
    host = urlsplit(url).hostname or "localhost"

    def mode(elder: bool) -> None:
        cookie = {"name": ELDER_COOKIE, "value": "1" if elder else "0", "domain": host, "path": "/"}
        context.add_cookies([cookie])

    mode(not before)
    other = context.new_page()
    try:
        other.goto(url)
        problems = violations(other)
        shown = "标准版" if before else "长辈版"
        assert not problems, f"{url} ({shown}):\n" + "\n".join(problems)
    finally:
        other.close()
        mode(before)
        page.bring_to_front()  # WebAuthn and focus-driven steps answer only the focused tab
