"""The seed's whole sign-up and sign-in journey in headless Chromium, on a fresh database.

Register with phone + SMS code read from the development outbox, a weak password refused with the
rule it broke, a wrong ID number refused, sign out, sign in by ID number, five wrong passwords
lock the account, reset it, add a passkey (CDP virtual authenticator), sign in with the passkey
alone, and pass the step-up check before account details — on a 360-px phone screen.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.support.browser import CHROMIUM, assert_accessible, require_chromium
from tests.support.live_server import ARTIFACTS, BROWSER_ARGS, LiveServer, live_server
from tests.support.world import define_regions, enrol, new_id_number, new_phone
from yibao.runtime import build_runtime

pytestmark = pytest.mark.browser

NAME = "林小雨"
PASSWORD = "Lin#xiaoyu26"
NEW_PASSWORD = "Rain@2026new"


def _enrol(server: LiveServer, id_number: str) -> None:
    async def work() -> None:
        runtime = build_runtime(server.settings)
        try:
            async with runtime.sessions() as session:
                await define_regions(session)
                await enrol(runtime, session, name=NAME, id_number=id_number, phone=new_phone())
        finally:
            await runtime.close()

    asyncio.run(work())


def _latest_code(sms_page: Page, base: str, masked: str) -> str:
    sms_page.goto(f"{base}/dev/sms")
    rows = sms_page.locator("tr", has_text=masked)
    text = rows.first.inner_text()
    found = re.search(r"验证码为 (\d{6})", text)
    assert found, text
    return found.group(1)


def test_seed_journey(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    require_chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    id_number, phone = new_id_number(), new_phone()
    with live_server(tmp_path, YIBAO_SMS_MIN_INTERVAL_SECONDS="0") as server:
        _enrol(server, id_number)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            try:
                _journey(browser, server.base_url, id_number, phone)
            finally:
                browser.close()


def _journey(browser: Browser, base: str, id_number: str, phone: str) -> None:
    from playwright.sync_api import expect

    masked = phone[:3] + "****" + phone[-4:]
    wrong_id = id_number[:-1] + ("0" if id_number[-1] != "0" else "1")
    context = browser.new_context(viewport={"width": 360, "height": 780}, locale="zh-CN")
    page = context.new_page()
    sms = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )["authenticatorId"]

    # 1. Register: phone → SMS code → password (a weak one refused) → real name.
    page.goto(f"{base}/register")
    assert_accessible(page)
    page.fill("#phone", phone)
    page.click("text=获取验证码")
    expect(page.get_by_test_id("notice")).to_contain_text("验证码已发送")
    code = _latest_code(sms, base, masked)
    page.fill("#code", code)
    page.fill("#password", "abcd12345")
    page.fill("#password2", "abcd12345")
    page.click("text=下一步")
    expect(page.get_by_test_id("error")).to_contain_text("密码须包含符号")
    page.fill("#code", code)
    page.fill("#password", PASSWORD)
    page.fill("#password2", PASSWORD)
    page.click("text=下一步")
    page.fill("#name", NAME)
    page.fill("#id_number", wrong_id)
    page.click("text=完成注册")
    expect(page.get_by_test_id("error")).to_contain_text("校验位不正确")
    assert_accessible(page, both_modes=False)  # an answer to a form: its own address shows another
    page.screenshot(path=str(ARTIFACTS / "identity-register-refused.png"), full_page=True)
    page.fill("#name", NAME)
    page.fill("#id_number", id_number)
    page.click("text=完成注册")
    expect(page.get_by_test_id("welcome")).to_contain_text("注册成功")
    assert_accessible(page, both_modes=False)
    expect(page.locator(".who-name")).to_have_text(NAME)

    # 2. Sign out, sign in by ID number.
    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("notice")).to_contain_text("您已安全退出")
    page.fill("#identifier", id_number)
    page.fill("#password", PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.locator(".who-name")).to_have_text(NAME)
    page.get_by_test_id("sign-out").click()

    # 3. Five wrong passwords hold this browser back; the page says what else works, in the
    # words every refusal gets (it must not tell that the account exists).
    for attempt in range(5):
        page.fill("#identifier", id_number)
        page.fill("#password", f"Wrong#{attempt}pass")
        page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("error")).to_contain_text("可改用短信验证码登录或找回密码")
    assert_accessible(page, both_modes=False)
    page.screenshot(path=str(ARTIFACTS / "identity-locked.png"), full_page=True)
    page.fill("#identifier", id_number)
    page.fill("#password", PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("error")).to_contain_text("账号或密码错误")

    # 4. Reset with ID number + SMS code: unlocked.
    page.click("a[href='/forgot']")
    assert_accessible(page)
    page.fill("#id_number", id_number)
    page.click("text=获取验证码")
    # The same words for every ID number, never the phone: 找回密码 must not tell who has an account.
    expect(page.get_by_test_id("notice")).to_have_text(
        "如该证件号已开通网上账户，验证码已发送至其预留手机号"
    )
    page.fill("#code", _latest_code(sms, base, masked))
    page.fill("#password", NEW_PASSWORD)
    page.fill("#password2", NEW_PASSWORD)
    page.click("text=重置密码")
    expect(page.get_by_test_id("reset-done")).to_be_visible()
    assert_accessible(page, both_modes=False)
    page.click("text=去登录")
    page.fill("#identifier", id_number)
    page.fill("#password", NEW_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.locator(".who-name")).to_have_text(NAME)

    # 5. Add a passkey (the virtual authenticator plays the phone's fingerprint or face).
    page.goto(f"{base}/passkeys")
    page.bring_to_front()  # WebAuthn answers only the focused tab; the SMS tab had the focus
    page.click("#passkey-add")
    expect(page.get_by_test_id("passkey-list")).to_contain_text("本机通行密钥")
    assert_accessible(page)
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(stored["credentials"]) == 1 and stored["credentials"][0]["isResidentCredential"]

    # 6. Sign out, then sign in with the passkey alone.
    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("notice")).to_contain_text("您已安全退出")
    page.click("#passkey-login")
    expect(page.locator(".who-name")).to_have_text(NAME)

    # 7. Account details need a fresh verification on this session: the passkey again.
    page.goto(f"{base}/security")
    assert "/verify" in page.url
    page.click("#passkey-verify")
    expect(page.get_by_test_id("name")).to_have_text(NAME)
    expect(page.get_by_test_id("id-number")).to_contain_text("*")
    expect(page.get_by_test_id("events")).to_contain_text("身份验证通过")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"page is {width}px wide on a 360-px phone"
    page.screenshot(path=str(ARTIFACTS / "identity-security.png"), full_page=True)
    assert_accessible(page)
    context.close()
