"""Where people look when the home has no obvious entry (the seed): 登录/注册 on the signed-out
home, 服务 and 我的 from the bottom navigation, 查询记录 from home, 我的 and the account page, the
search box (and voice search where the browser has speech recognition), and 长辈版's promise
measured at 360 px: text at least 18 px, tap targets at least 60 px. Found by the words on screen.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import CHROMIUM, assert_accessible, require_chromium
from tests.support.documents import jpeg_with_exif, pdf
from tests.support.live_server import ARTIFACTS, BROWSER_ARGS, LiveServer, live_server
from yibao.claims.domain import STATUS_NAMES, ClaimDraft, StaffActor
from yibao.claims.service import claims
from yibao.cli.demo import DEMO_CARD_NO, DEMO_PASSWORD, DEMO_PHONE
from yibao.enrolment import repository as enrolment_repository
from yibao.kernel.clock import china_today
from yibao.kernel.uploads import DocumentStore
from yibao.runtime import build_runtime

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "entries"
PHONE = {"width": 360, "height": 740}
NO_SPEECH = "delete window.SpeechRecognition; delete window.webkitSpeechRecognition;"
# A stand-in for the browser's recogniser that hears "查询医保": what voice.js does with a result.
HEARS = """
window.webkitSpeechRecognition = function () {
  var self = this;
  self.start = function () {
    setTimeout(function () {
      self.onresult({results: [[{transcript: "查询医保。"}]]});
    }, 10);
  };
};
delete window.SpeechRecognition;
"""

# Computed sizes on the page as shown: SVG text is scaled by its drawing's transform.
MEASURE = """() => {
  const visible = (el) => {
    const s = getComputedStyle(el), r = el.getBoundingClientRect();
    return s.display !== 'none' && s.visibility !== 'hidden' && r.width > 0 && r.height > 0
      && !el.closest('.sr-only');
  };
  const name = (el) => `${el.tagName.toLowerCase()}.${(el.className.baseVal ?? el.className)
    .toString().trim().replace(/ +/g, '.')} "${el.textContent.trim().slice(0, 24)}"`;
  const small = [];
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !visible(el)) continue;
    let size = parseFloat(getComputedStyle(el).fontSize);
    if (el instanceof SVGElement && el.getScreenCTM()) size *= el.getScreenCTM().a;
    if (size < 17.95) small.push(`${name(el)} ${size.toFixed(1)}px`);
  }
  const tiny = [];
  const targets = 'a[href], button, input:not([type=hidden]), select, textarea';
  for (let el of document.querySelectorAll(targets)) {
    if (el.matches('input[type=checkbox], input[type=radio]')) el = el.closest('label') || el;
    if (!visible(el)) continue;
    // A link inside a sentence is exempt (WCAG 2.5.8): its size is the line's.
    const inline = getComputedStyle(el).display === 'inline' && el.parentElement &&
      [...el.parentElement.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (inline) continue;
    const r = el.getBoundingClientRect();
    if (r.height < 59.5) tiny.push(`${name(el)} ${Math.round(r.width)}x${Math.round(r.height)}`);
  }
  return {small, tiny, width: document.documentElement.scrollWidth};
}"""


def _claims_in_every_state(server: LiveServer) -> None:
    """The demo person's 报销进度 shows every state's badge (已提交 … 已撤回) to the checks."""
    reviewer = StaffActor(9001, "李审核", frozenset({"reviewer"}), "徐汇区医保中心")
    clerk = StaffActor(9002, "张建华", frozenset({"clerk"}), "徐汇区医保中心")

    async def work() -> None:
        runtime = build_runtime(server.settings)
        store = DocumentStore(server.settings.var_dir / "uploads")
        today = china_today(runtime.clock)
        try:
            async with runtime.sessions() as s:
                person = await enrolment_repository.person_by_card_no(s, DEMO_CARD_NO)
                assert person is not None
                person_id = person.id
            ids = {}
            for n, state in enumerate(STATUS_NAMES):
                draft = ClaimDraft("北京协和医院", None, "13", today - timedelta(days=3 + n),
                                   today - timedelta(days=2 + n), 300_000, 10_000, "急性阑尾炎",
                                   "out_of_area_emergency")  # fmt: skip
                uploads = [claims.Upload("invoice", "发票.jpg", jpeg_with_exif()),
                           claims.Upload("diagnosis", "诊断证明.pdf", pdf())]  # fmt: skip
                async with runtime.sessions() as s:
                    claim = await claims.submit_claim(
                        s, store, runtime.clock, person_id=person_id,
                        request_key=f"entries-{n:08d}", draft=draft, uploads=uploads,
                        max_bytes=server.settings.upload_max_bytes,
                    )  # fmt: skip
                    ids[state] = claim.id
            async with runtime.sessions() as s:
                await claims.withdraw_claim(s, runtime.clock, person_id, ids["withdrawn"])
            for state in ("under_review", "approved", "rejected", "paid"):
                async with runtime.sessions() as s:
                    await claims.start_review(s, runtime.clock, reviewer, ids[state])
            for state in ("approved", "paid"):
                async with runtime.sessions() as s:
                    await claims.approve_claim(
                        s, runtime.clock, reviewer, ids[state], fulamt_ownpay_amt_fen=10_000,
                        overlmt_selfpay_fen=0, preselfpay_amt_fen=0,
                    )  # fmt: skip
            async with runtime.sessions() as s:
                await claims.reject_claim(
                    s, runtime.clock, reviewer, ids["rejected"], code="R01", text=""
                )
            async with runtime.sessions() as s:
                await claims.mark_paid(
                    s, runtime.clock, clerk, ids["paid"], payment_ref="PAY20260001"
                )
        finally:
            await runtime.close()

    asyncio.run(work())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    tmp = tmp_path_factory.mktemp("entries")
    with live_server(tmp, YIBAO_SMS_MIN_INTERVAL_SECONDS="0") as live:
        settings = live.settings
        env = {
            **os.environ,
            "YIBAO_DATABASE_URL": settings.database_url,
            "YIBAO_DATA_KEY": settings.data_key,
            "YIBAO_SECRET_KEY": settings.secret_key,
            "YIBAO_VAR_DIR": str(settings.var_dir),
            "YIBAO_ENVIRONMENT": "development",
        }
        yibao = str(Path(sys.executable).parent / "yibao")
        subprocess.run([yibao, "demo", "--persons", "3"], env=env, cwd=tmp, check=True,
                       capture_output=True)  # fmt: skip
        _claims_in_every_state(live)
        yield live.base_url


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _phone(browser: Any, *, script: str = NO_SPEECH) -> Any:
    context = browser.new_context(viewport=PHONE, locale="zh-CN", service_workers="block")
    context.add_init_script(script)
    return context


def _sign_in(page: Any, base: str) -> None:
    """From the signed-out home, by its 登录 entry, then the SMS step-up by tapping 医保查询."""
    page.goto(base + "/")
    page.get_by_role("link", name="登录", exact=True).first.click()
    page.fill("#identifier", DEMO_PHONE)
    page.fill("#password", DEMO_PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.get_by_role("link", name="医保查询").first.click()
    assert "/verify" in page.url, page.url
    page.get_by_role("button", name="发送验证码到绑定手机").click()
    sms = page.context.new_page()
    sms.goto(f"{base}/dev/sms")
    masked = DEMO_PHONE[:3] + "****" + DEMO_PHONE[-4:]
    found = re.search(r"验证码为 (\d{6})", sms.locator("tr", has_text=masked).first.inner_text())
    sms.close()
    assert found
    page.fill("#code", found.group(1))
    page.click("form[action='/verify/sms'] button[type=submit]")
    assert page.url.endswith("/account"), page.url


def _tab(page: Any, name: str, nav: str = "主导航") -> None:
    page.get_by_role("navigation", name=nav).get_by_role("link", name=name).click()


def test_signed_out_home_me_and_services_offer_the_way_in(server: str, browser: Any) -> None:
    page = _phone(browser).new_page()
    page.goto(server + "/")
    assert page.get_by_role("link", name="登录", exact=True).is_visible()
    assert page.get_by_role("link", name="注册", exact=True).is_visible()
    # Speech recognition is absent here: no microphone, and the search still works.
    assert page.get_by_role("button", name="语音搜索").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(page)
    page.screenshot(path=str(SHOTS / "01-home-signed-out.png"), full_page=True)

    _tab(page, "服务")
    assert page.url.endswith("/services")
    grid = page.get_by_role("navigation", name="全部服务")
    for service in ["医保查询", "缴费记录", "消费记录", "报销进度", "家庭共济", "医保电子凭证",
                    "查询记录", "消息", "共济消费明细"]:  # fmt: skip
        assert grid.get_by_role("link", name=service).is_visible(), service
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(page)
    page.screenshot(path=str(SHOTS / "02-services.png"), full_page=True)
    page.get_by_label("搜索服务").fill("谁查看过我")
    page.get_by_role("button", name="搜索", exact=True).click()
    # 查询记录 needs a signed-in person: the search took us there, by way of the sign-in.
    assert "/login?next=/me/lookups" in page.url, page.url

    _tab(page, "我的")
    assert page.url.endswith("/me")
    assert page.get_by_role("link", name="登录", exact=True).is_visible()
    assert page.get_by_role("link", name="注册", exact=True).is_visible()
    assert_accessible(page)
    page.get_by_role("main").get_by_role("link", name="English").click()
    assert page.get_by_role("heading", name="Me").is_visible()
    _tab(page, "Services", nav="Main navigation")
    assert (
        page.get_by_role("navigation", name="All services")
        .get_by_role("link", name="Look-up history")
        .is_visible()
    )
    assert_accessible(page)
    page.screenshot(path=str(SHOTS / "03-services-english.png"), full_page=True)


def test_signed_in_me_links_lookups_security_and_signs_out(server: str, browser: Any) -> None:
    page = _phone(browser).new_page()
    _sign_in(page, server)
    # 报销进度 shows a badge for each state a claim can be in.
    page.goto(server + "/claims")
    badges = set(page.get_by_test_id("status").all_inner_texts())
    assert badges == set(STATUS_NAMES.values()), badges
    assert_accessible(page)
    page.goto(server + "/account")
    # 查询记录 from the account page…
    page.get_by_role("link", name="查看查询记录").click()
    assert page.url.endswith("/me/lookups"), page.url
    assert_accessible(page)
    # …from home…
    page.goto(server + "/")
    assert page.get_by_role("link", name="登录", exact=True).count() == 0
    page.get_by_role("link", name="查询记录：谁查看过我的信息").click()
    assert page.url.endswith("/me/lookups"), page.url
    # …and from 我的, with the rest a person looks for there.
    _tab(page, "我的")
    assert page.get_by_test_id("me-name").inner_text().strip() != ""
    for item in ["账户与安全", "查询记录", "通行密钥", "消息", "切换到长辈版（大字）", "English"]:
        assert page.get_by_role("link", name=item).first.is_visible(), item
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(page)
    page.screenshot(path=str(SHOTS / "04-me.png"), full_page=True)
    page.get_by_role("link", name="查询记录").first.click()
    assert page.url.endswith("/me/lookups"), page.url
    _tab(page, "我的")
    page.get_by_role("link", name="账户与安全").click()
    assert page.url.endswith("/security"), page.url
    _tab(page, "我的")
    page.get_by_role("button", name="退出登录").click()
    page.goto(server + "/me")
    assert page.get_by_role("link", name="登录", exact=True).is_visible()


def test_voice_search_where_the_browser_hears(server: str, browser: Any) -> None:
    page = _phone(browser, script=HEARS).new_page()
    page.goto(server + "/services")
    mic = page.get_by_role("button", name="语音搜索")
    assert mic.is_visible()
    assert_accessible(page, both_modes=False)
    mic.click()
    # "查询医保" jumps to 医保查询, which asks a visitor to sign in first.
    page.wait_for_url("**/login?next=/account")


def test_elder_mode_keeps_its_promise_at_360_px(server: str, browser: Any) -> None:
    context = _phone(browser)
    page = context.new_page()
    _sign_in(page, server)
    _tab(page, "我的")
    page.get_by_role("link", name="切换到长辈版（大字）").click()
    assert "elder" in (page.get_attribute("html", "class") or "")
    failures = {}
    for path in ["/", "/services", "/me", "/account", "/account/contributions",
                 "/account/consumption", "/claims", "/messages", "/me/lookups", "/family",
                 "/family/payments", "/voucher"]:  # fmt: skip
        page.goto(server + path)
        found = page.evaluate(MEASURE)
        page.screenshot(path=str(SHOTS / f"elder{path.replace('/', '-')}.png"), full_page=True)
        problems = [*found["small"], *found["tiny"]]
        if found["width"] > PHONE["width"]:
            problems.append(f"page is {found['width']} px wide")
        if problems:
            failures[path] = problems
    assert failures == {}
