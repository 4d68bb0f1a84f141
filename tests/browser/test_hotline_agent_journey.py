"""The hotline's agent in headless Chromium against the real server.

A caller identifies on the voice menu by keys, hears the balance and presses 0; the agent at
/staff/hotline takes the queued call, sees who is calling, that the caller was identified and what
they already heard, and reads the caller's account; on the phone, the person's 查询记录 then shows
the hotline reads with the reason 热线来电. Screenshots go to test-artifacts/hotline/.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyotp
import pytest

from tests.support.browser import CHROMIUM, assert_accessible, require_chromium
from tests.support.family import STAFF_PASSWORD, TOTP_SECRET, staff_member
from tests.support.hotline import HotlineWorld, hotline_world, id_keys
from tests.support.identity import CARD_PASSWORD, PASSWORD
from tests.support.live_server import ARTIFACTS, BROWSER_ARGS, LiveServer, live_server
from yibao.hotline.driver import CallDriver
from yibao.hotline.ivr import Event, EventKind
from yibao.hotline.speech import chinese_money
from yibao.kernel.money import format_yuan
from yibao.runtime import build_runtime

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "hotline"
PHONE = {"width": 360, "height": 740}
DESK = {"width": 1280, "height": 900}


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    require_chromium()
    with live_server(tmp_path) as server:
        yield server


def _call_and_queue(server: LiveServer) -> HotlineWorld:
    async def _work() -> HotlineWorld:
        runtime = build_runtime(server.settings)
        try:
            w = await hotline_world(runtime)
            await staff_member(runtime, "agent1", ["clerk"], "李坐席")
            driver = CallDriver(runtime, "test")
            started = await driver.start()
            state = started.state_json
            for keys in ("1", "1", id_keys(w.caller.id_number), CARD_PASSWORD, "0"):
                state, _ = await driver.step(started.call_ref, state, Event(EventKind.KEYS, keys))
            return w
        finally:
            await runtime.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _work()).result()


def test_agent_takes_the_call_and_the_person_sees_the_hotline_read(live: LiveServer) -> None:
    base = live.base_url
    w = _call_and_queue(live)
    SHOTS.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            desk = browser.new_context(viewport=DESK).new_page()
            desk.goto(f"{base}/staff/hotline")
            desk.wait_for_url("**/staff/login**")
            desk.fill("#username", "agent1")
            desk.fill("#password", STAFF_PASSWORD)
            desk.fill("#totp", pyotp.TOTP(TOTP_SECRET).now())
            desk.click("button[type=submit]")
            desk.wait_for_url("**/staff/hotline")
            assert desk.locator("[data-testid=waiting-call]").count() == 1
            assert "已验证身份" in desk.inner_text("[data-testid=waiting-call]")
            assert_accessible(desk, both_modes=False)
            desk.screenshot(path=str(SHOTS / "01-queue.png"), full_page=True)

            desk.get_by_role("button", name="接听").click()
            desk.wait_for_url("**/staff/hotline/*")
            assert "王芳" in desk.inner_text("[data-testid=caller]")
            assert w.caller.id_number not in desk.inner_text("main")
            assert "按键验证" in desk.inner_text("[data-testid=identified-by]")
            heard = desk.inner_text("[data-testid=transcript]")
            assert chinese_money(w.balance_fen) in heard and "转接人工" in heard
            desk.get_by_role("button", name="查看来电人账户").click()
            desk.wait_for_selector("[data-testid=caller-balance]")
            assert format_yuan(w.balance_fen) in desk.inner_text("[data-testid=caller-balance]")
            assert_accessible(desk, both_modes=False)
            desk.screenshot(path=str(SHOTS / "02-call.png"), full_page=True)

            desk.goto(f"{base}/staff")
            assert "今日热线来电" in desk.inner_text("[data-testid=hotline-figures]")

            phone = browser.new_context(viewport=PHONE).new_page()
            phone.goto(f"{base}/login")
            phone.fill("#identifier", w.phone)
            phone.fill("#password", PASSWORD)
            phone.click("[data-testid=login-submit]")
            phone.wait_for_url(f"{base}/")
            phone.goto(f"{base}/me/lookups")
            phone.wait_for_url("**/verify?next=**")
            phone.fill("#card_password", CARD_PASSWORD)
            phone.click("form[action='/verify/card-password'] button")
            phone.wait_for_url("**/me/lookups")
            lines = phone.locator("[data-testid=lookup]").all_inner_texts()
            assert any("热线语音查询" in t and "热线来电" in t for t in lines), lines
            assert any("查看个人账户" in t and "热线来电" in t for t in lines), lines
            assert_accessible(phone)
            phone.screenshot(path=str(SHOTS / "03-lookups-phone.png"), full_page=True)
        finally:
            browser.close()
