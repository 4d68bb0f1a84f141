"""地方专区: a person insured in 深圳 (deployment A) opens 上海's phone pages (deployment B) and is
sent to A's sign-in page through B's region directory, on a 360-px phone in headless Chromium."""

from __future__ import annotations

import asyncio
import base64
import secrets
from pathlib import Path

import pytest

from tests.support.browser import CHROMIUM, assert_accessible, require_chromium
from tests.support.live_server import BROWSER_ARGS, LiveServer, live_server
from tests.support.two_regions import directory_json
from yibao.crossregion import service as crossregion
from yibao.runtime import build_runtime

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}


def _load(server: LiveServer, deployment: str, directory: str) -> None:
    async def _work() -> None:
        settings = server.settings.model_copy(update={"peer_id": deployment})
        runtime = build_runtime(settings)
        try:
            async with runtime.sessions() as session:
                await crossregion.load_directory(session, runtime, directory)
        finally:
            await runtime.close()

    asyncio.run(_work())


def test_insured_elsewhere_is_sent_home(tmp_path: Path) -> None:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    seeds = [base64.b64encode(secrets.token_bytes(32)).decode() for _ in range(2)]
    with live_server(tmp_path / "a") as a, live_server(tmp_path / "b") as b:
        directory = directory_json(seeds[0], seeds[1], a.base_url, b.base_url)
        _load(a, "shenzhen", directory)
        _load(b, "shanghai", directory)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            try:
                page = browser.new_context(viewport=PHONE).new_page()
                page.goto(f"{b.base_url}/login")
                page.get_by_role("link", name="在其他地区参保？选择参保地").click()
                expect(page.get_by_role("heading", name="选择参保地")).to_be_visible()
                expect(page.get_by_role("link", name="上海市")).to_be_visible()
                assert_accessible(page)
                page.get_by_role("link", name="深圳市").click()
                page.wait_for_url(f"{a.base_url}/login")
                expect(page.get_by_role("heading", name="登录医保个人账户")).to_be_visible()
                # B's own region stays on B.
                page.goto(f"{b.base_url}/region/310000")
                page.wait_for_url(f"{b.base_url}/login")
                # A region the directory does not list: a readable refusal, not a redirect.
                page.goto(f"{b.base_url}/region/110000")
                expect(page.get_by_text("没有找到该参保地，请从列表中选择")).to_be_visible()
            finally:
                browser.close()
