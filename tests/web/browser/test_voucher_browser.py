"""The 医保电子凭证 page on a 360-px phone: the code shows and refreshes by itself."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn

from tests.conftest import TEST_DATA_KEY
from tests.support import world
from tests.support.browser import CHROMIUM, assert_accessible, require_chromium
from yibao.config import Settings
from yibao.db.migrate import upgrade
from yibao.kernel.clock import SystemClock
from yibao.runtime import build_runtime
from yibao.web.app import create_app
from yibao.web.auth import PersonPrincipal, stepped_up_person
from yibao_bench.server import free_port

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).parents[3] / "test-artifacts"


@pytest.fixture
def voucher_server(tmp_path: Path):  # type: ignore[no-untyped-def]
    require_chromium()
    url = f"sqlite+aiosqlite:///{tmp_path / 'b.sqlite3'}"
    upgrade(url)
    settings = Settings(
        environment="test",
        database_url=url,
        data_key=TEST_DATA_KEY,
        var_dir=tmp_path / "var",
        ec_qr_refresh_seconds=2,
        _env_file=None,  # type: ignore[call-arg]
    )

    async def seed() -> int:
        runtime = build_runtime(settings)
        async with runtime.sessions() as session:
            await world.define_regions(session)
            enrolled = await world.enrol(runtime, session, name="李明")
        await runtime.close()
        return enrolled.person.id

    person_id = asyncio.run(seed())
    app = create_app(settings)

    # Signed in and verified again; identity's browser tests cover how.
    app.dependency_overrides[stepped_up_person] = lambda: PersonPrincipal(
        person_id, 1, "s", SystemClock().now() + timedelta(minutes=10), "cookie"
    )

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_voucher_refreshes_on_a_phone(voucher_server: str) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        page = browser.new_context(viewport={"width": 360, "height": 740}).new_page()
        page.goto(f"{voucher_server}/voucher")
        assert page.locator("h1").inner_text() == "医保电子凭证"
        assert_accessible(page)
        qr = page.locator("#voucher-qr")
        first = qr.get_attribute("src")
        assert first and first.startswith("data:image/svg+xml")
        box = qr.bounding_box()
        assert box is not None and box["width"] <= 360 and box["width"] >= 200
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.wait_for_function(
            "first => document.getElementById('voucher-qr').src !== first", arg=first, timeout=8000
        )
        assert "秒后自动刷新" in page.locator("#voucher-countdown").inner_text()
        page.screenshot(path=str(ARTIFACTS / "voucher-360.png"), full_page=True)
        browser.close()
