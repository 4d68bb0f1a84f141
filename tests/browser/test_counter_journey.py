"""消息 and the counter in headless Chromium against the real server.

The person reads a payment notice on a 360-px phone (badge on the home page, unread mark, opening
marks it read); a clerk at a desk finds the person, prints the statement PDF and resets the card
password after checking the ID; the person's new notice arrives and the new password opens
查询记录, where the print shows. Screenshots of the claims and workbench pages at phone and desk
width go to test-artifacts/counter/ and no page scrolls sideways on the phone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.support.browser import CHROMIUM, assert_accessible, require_chromium
from tests.support.identity import PASSWORD, member
from tests.support.live_server import ARTIFACTS, BROWSER_ARGS, LiveServer, live_server
from yibao.identity import service as identity
from yibao.ledger import repository as ledger
from yibao.ledger.domain import EntryKind
from yibao.notifications import repository as outbox
from yibao.notifications import service as delivery
from yibao.notifications.domain import Channel
from yibao.runtime import build_runtime

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "counter"
PHONE = {"width": 360, "height": 740}
DESK = {"width": 1280, "height": 900}
STAFF_PASSWORD = "Staff@2026"
NEW_CARD_PASSWORD = "802461"


class NoSms:
    async def send(self, phone: str, text: str) -> None:
        return None


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    require_chromium()
    with live_server(tmp_path) as server:
        yield server


def _deliver(server: LiveServer) -> None:
    """What `yibao worker` does beside the server."""

    async def _work() -> None:
        runtime = build_runtime(server.settings)
        try:
            async with runtime.sessions() as s:
                await delivery.deliver_due(s, runtime.clock, runtime.cipher, NoSms())
        finally:
            await runtime.close()

    # Playwright's sync API keeps an event loop running in this thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _work()).result()


def _seed(server: LiveServer) -> dict[str, Any]:
    async def _work() -> dict[str, Any]:
        runtime = build_runtime(server.settings)
        try:
            async with runtime.sessions() as s:
                person = await member(runtime, s, name="王芳")
                await s.commit()
            async with runtime.sessions() as s:
                _, secret = await identity.create_staff(
                    runtime, s, username="clerk1", name="张建华", password=STAFF_PASSWORD,
                    roles=["clerk"], office="徐汇区医保中心",
                )  # fmt: skip
            async with runtime.sessions() as s:
                account = await ledger.account_for_person(s, person.person_id, lock=True)
                assert account is not None
                now = runtime.clock.now()
                await ledger.post(
                    s, account,
                    ledger.Posting(EntryKind.CONTRIBUTION_CREDIT, 50_000, "fund", "单位缴费"),
                    now,
                )  # fmt: skip
                await ledger.post(
                    s, account,
                    ledger.Posting(EntryKind.SETTLEMENT_DEBIT, -1_230, "setl:M1:own", "国大药房",
                                   source_type="settlement", source_id="M1"),
                    now,
                )  # fmt: skip
                for i, (subject, body) in enumerate(
                    [
                        ("医保个人账户支付提醒", "您的医保个人账户在国大药房支付 12.30 元，余额 487.70 元。"),
                        ("报销进度提醒", "您的零星报销申请已受理，审核结果将另行通知。"),
                    ]
                ):  # fmt: skip
                    await outbox.enqueue(
                        s, channel=Channel.INAPP, dedup_key=f"seed:{i}", subject=subject,
                        body=body, now=now, person_id=person.person_id,
                    )  # fmt: skip
                await s.commit()
            return {"person": person, "secret": secret}
        finally:
            await runtime.close()

    world = asyncio.run(_work())
    _deliver(server)
    return world


def _fits(page: Any) -> None:
    """Every phone page fits its width and passes the accessibility check, in both modes."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], (page.url, width)
    assert_accessible(page)


def test_messages_and_the_counter(live: LiveServer) -> None:
    base = live.base_url
    world = _seed(live)
    person = world["person"]
    SHOTS.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_context(viewport=PHONE).new_page()
            page.goto(f"{base}/login")
            page.fill("#identifier", person.phone)
            page.fill("#password", PASSWORD)
            page.click("[data-testid=login-submit]")
            page.wait_for_url(f"{base}/")
            assert page.inner_text("[data-testid=unread-badge]") == "2"
            _fits(page)
            page.screenshot(path=str(SHOTS / "01-home-badge-phone.png"), full_page=True)

            page.click("[data-testid=messages-link]")
            page.wait_for_url("**/messages")
            links = page.locator("[data-testid=message-link]")
            assert links.count() == 2
            assert page.locator("li.is-unread").count() == 2
            _fits(page)
            page.screenshot(path=str(SHOTS / "02-messages-phone.png"), full_page=True)
            page.locator("li", has_text="医保个人账户支付提醒").locator("a").click()
            page.wait_for_url("**/messages/*")
            assert "12.30" in page.inner_text("[data-testid=message-body]")
            _fits(page)
            page.screenshot(path=str(SHOTS / "03-message-phone.png"), full_page=True)
            page.click("[data-testid=back-to-messages]")
            assert page.locator("li.is-unread").count() == 1
            page.goto(f"{base}/")
            assert page.inner_text("[data-testid=unread-badge]") == "1"

            # The counter: find the person, print the statement, reset the card password.
            desk = browser.new_context(viewport=DESK, accept_downloads=True).new_page()
            desk.goto(f"{base}/staff/persons")
            desk.wait_for_url("**/staff/login**")
            assert_accessible(desk, both_modes=False)
            desk.fill("#username", "clerk1")
            desk.fill("#password", STAFF_PASSWORD)
            desk.fill("#totp", pyotp.TOTP(world["secret"]).now())
            desk.click("button[type=submit]")
            desk.wait_for_url("**/staff/persons")
            desk.select_option("#reason", "counter_visit")
            desk.select_option("#by", "phone")
            desk.fill("#value", person.phone)
            desk.click("[data-testid=find]")
            desk.click("[data-testid=person-result]")
            desk.wait_for_url("**/staff/persons/*")
            assert_accessible(desk, both_modes=False)
            person_path = desk.url.removeprefix(base)
            with desk.expect_download() as download:
                desk.click("[data-testid=print-statement]")
            saved = SHOTS / "statement.pdf"
            download.value.save_as(saved)
            assert saved.read_bytes().startswith(b"%PDF")
            assert download.value.suggested_filename.startswith("医疗保险个人账户结算单_")

            # Without the ID check ticked the browser will not send the form.
            desk.fill("[data-testid=card-id-number]", person.id_number)
            desk.fill("[data-testid=card-password]", NEW_CARD_PASSWORD)
            desk.fill("[data-testid=card-password-again]", NEW_CARD_PASSWORD)
            desk.click("[data-testid=reset-card-password]")
            assert desk.locator("[data-testid=notice]").count() == 0
            desk.check("[data-testid=id-checked]")
            desk.click("[data-testid=reset-card-password]")
            desk.wait_for_selector("[data-testid=notice]")
            assert "医保卡密码已重置" in desk.inner_text("[data-testid=notice]")
            desk.screenshot(path=str(SHOTS / "04-staff-person-desk.png"), full_page=True)

            # The person is told, and the new password opens 查询记录, which shows the print.
            _deliver(live)
            page.goto(f"{base}/messages")
            assert "医保卡密码已重置" in page.inner_text("main")
            page.goto(f"{base}/me/lookups")
            page.wait_for_url("**/verify?next=**")
            assert_accessible(page)
            page.fill("#card_password", NEW_CARD_PASSWORD)
            page.click("form[action='/verify/card-password'] button")
            page.wait_for_url("**/me/lookups")
            assert any(
                "打印结算单" in t for t in page.locator("[data-testid=lookup]").all_inner_texts()
            )

            # The claims and workbench pages, on the phone and at the desk.
            for name, path in (("claims", "/claims"), ("claim-new", "/claims/new"),
                               ("lookups", "/me/lookups"), ("disputes", "/disputes")):  # fmt: skip
                page.goto(f"{base}{path}")
                _fits(page)
                page.screenshot(path=str(SHOTS / f"phone-{name}.png"), full_page=True)
            small = browser.new_context(viewport=PHONE)
            small.add_cookies(desk.context.cookies())
            small_page = small.new_page()
            for name, path in (("find", "/staff/persons"), ("claims", "/staff/claims"),
                               ("disputes", "/staff/disputes"), ("adjustments", "/staff/adjustments"),
                               ("kiosks", "/staff/kiosks"), ("person", person_path)):  # fmt: skip
                desk.goto(f"{base}{path}")
                assert_accessible(desk, both_modes=False)
                desk.screenshot(path=str(SHOTS / f"desk-staff-{name}.png"), full_page=True)
                small_page.goto(f"{base}{path}")
                _fits(small_page)
                small_page.screenshot(path=str(SHOTS / f"phone-staff-{name}.png"), full_page=True)
        finally:
            browser.close()
