"""The seed's journey in headless Chromium at phone size, on the demo data.

Open the app, sign in, tap 医保查询, pass the step-up, read 账户余额 and check it equals the sum
of the records, open 缴费记录 and 消费记录, filter by time, open a detail, download the PDF,
switch to 长辈版 and to English. Screenshots go to test-artifacts/accounts/.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page
from pypdf import PdfReader

from tests.support.browser import assert_accessible, require_chromium
from tests.support.live_server import ARTIFACTS as ALL_ARTIFACTS
from tests.support.live_server import BROWSER_ARGS, LiveServer, live_server
from tests.support.spending import settle
from yibao.cli.demo import DEMO_CARD_NO, DEMO_ID_NUMBER, DEMO_PASSWORD, DEMO_PHONE
from yibao.contributions import service as contributions
from yibao.contributions.domain import month_index, month_of_index
from yibao.enrolment import repository as enrolment_repository
from yibao.kernel.clock import china_today
from yibao.runtime import build_runtime

pytestmark = pytest.mark.browser

ARTIFACTS = ALL_ARTIFACTS / "accounts"


async def _spend(server: LiveServer) -> int:
    """Two more visits beside the demo's own settlements: one older than the default window, and
    one three days ago at an institution the demo does not use, to find it by name. And, before
    the demo's 24 months of contributions, a month in arrears, a month with no record and a month
    paid late, so 缴费记录 shows every badge (欠费, 补缴, 正常) to the accessibility check."""
    runtime = build_runtime(server.settings)
    try:
        async with runtime.sessions() as session:
            person = await enrolment_repository.person_by_card_no(session, DEMO_CARD_NO)
            assert person is not None
            now = datetime.now(UTC)
            plan = [
                ("SETLDEMO0001", 400, "H31010400012", "上海市第一人民医院", "11", 32000, 18000, 9000),
                ("SETLDEMO0005", 3, "H31010500021", "上海市第六人民医院", "14", 15800, 9500, 4200),
            ]  # fmt: skip
            for setl_id, days_ago, code, name, med_type, total, fund, acct in plan:
                await settle(
                    session, person.id, setl_id, now - timedelta(days=days_ago),
                    total_fen=total, fund_fen=fund, acct_fen=acct, code=code, name=name,
                    med_type=med_type,
                )  # fmt: skip
            this_month = month_index(f"{china_today(runtime.clock):%Y-%m}")
            rows = []
            for back, amounts, late in ((28, ("0", "0", "0"), 0), (26, ("8000", "720", "160"), 4)):
                arrival = this_month - back + late
                rows.append(
                    (
                        len(rows) + 1,
                        contributions.ContributionRow(
                            DEMO_ID_NUMBER,
                            month_of_index(this_month - back),
                            *amounts,
                            arrived_on=date(arrival // 12, arrival % 12 + 1, 15),
                        ),
                    )
                )
            report = await contributions.import_contributions(
                session, runtime.cipher, runtime.clock, rows
            )
            assert not report.errors, report.errors
            await session.commit()
            return person.id
    finally:
        await runtime.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    tmp = tmp_path_factory.mktemp("journey")
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
        subprocess.run([yibao, "demo", "--persons", "12"], env=env, cwd=tmp, check=True,
                       capture_output=True)  # fmt: skip
        asyncio.run(_spend(live))
        yield live.base_url


def _latest_code(sms_page: Page, base: str) -> str:
    """The step-up code, read from the development SMS outbox (/dev/sms)."""
    masked = DEMO_PHONE[:3] + "****" + DEMO_PHONE[-4:]
    sms_page.goto(f"{base}/dev/sms")
    text = sms_page.locator("tr", has_text=masked).first.inner_text()
    found = re.search(r"验证码为 (\d{6})", text)
    assert found, text
    return found.group(1)


def _count(text: str) -> int:
    found = re.search(r"共 (\d+) 条", text)
    assert found, text
    return int(found.group(1))


def _fen(text: str) -> int:
    sign = -1 if text.strip().startswith("-") else 1
    whole, cents = text.strip().lstrip("-+¥ ").replace(",", "").split(".")
    return sign * (int(whole) * 100 + int(cents))


def test_the_seed_journey_at_phone_size(server: str) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
        context = browser.new_context(
            viewport={"width": 360, "height": 740}, device_scale_factor=2, accept_downloads=True,
            locale="zh-CN", service_workers="block",
        )  # fmt: skip
        page = context.new_page()
        shot = lambda name: page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # noqa: E731

        page.goto(server + "/")
        assert_accessible(page)
        for module in ["医保查询", "缴费记录", "消费记录", "报销进度", "家庭共济", "医保电子凭证"]:
            assert page.get_by_role("link", name=module).count() >= 1
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        shot("01-home")

        page.click("#module-query")
        assert "/login?next=/account" in page.url
        assert_accessible(page)
        page.fill("#identifier", DEMO_PHONE)
        page.fill("#password", DEMO_PASSWORD)
        page.get_by_test_id("login-submit").click()
        # Signed in, but account details need a fresh verification: the SMS step-up.
        assert "/verify?next=/account" in page.url
        assert_accessible(page)
        shot("02a-verify")
        page.click("text=发送验证码到绑定手机")
        page.fill("#code", _latest_code(context.new_page(), server))
        page.click("form[action='/verify/sms'] button[type=submit]")
        assert page.url.endswith("/account"), page.url
        balance = int(page.get_attribute("#balance", "data-fen") or "-1")
        assert page.locator("#as-of").inner_text().startswith("数据更新于")
        assert page.locator("svg.chart rect").count() == 12
        assert_accessible(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        shot("02-overview")

        page.click("nav.tabs >> text=缴费记录")
        page.fill("#c-since", "2000-01")
        page.click("form.account-filters button[type=submit]")
        credited = _fen(page.inner_text("#credited-total"))
        assert page.locator("#contributions li.record").count() >= 12
        badges = set(page.locator("#contributions .badge").all_inner_texts())
        assert {"正常", "欠费", "补缴"} <= badges, badges
        assert_accessible(page)
        shot("03-contributions")

        page.click("nav.tabs >> text=消费记录")
        # The default window is the last 12 months: the 400-day-old visit is hidden, and said so.
        assert page.locator("#consumption li.record").count() >= 1
        assert "隐藏了" in page.inner_text("#hidden-hint")
        assert_accessible(page)
        shot("04-consumption")
        page.click("#widen")  # the hint's way to see everything
        assert page.locator("#hidden-hint").count() == 0
        everything = _count(page.inner_text("#matching"))
        spent = 0
        while True:
            spent += sum(
                _fen(t)
                for t in page.locator("#consumption li.record .row strong.amount").all_inner_texts()
            )
            if page.locator("#next-page").count() == 0:
                break
            page.click("#next-page")
        # 账户余额 equals what the records add up to: every credit, less every payment.
        assert balance == credited + spent, (balance, credited, spent)

        page.click("text=重置")
        today = (datetime.now(UTC) + timedelta(hours=8)).date()
        since = today - timedelta(days=30)
        page.fill("#f-since", since.isoformat())
        page.fill("#f-until", today.isoformat())
        page.click("#apply-filter")
        shown = _count(page.inner_text("#matching"))
        assert 1 <= shown < everything
        assert f"隐藏了 {everything - shown} 条记录" in page.inner_text("#hidden-hint")
        assert_accessible(page)
        for when in page.locator(
            "#consumption li.record .row > span:first-child"
        ).all_inner_texts():
            assert when[:10] >= since.isoformat(), when
        shot("05-consumption-filtered")

        page.fill("#f-inst", "第六人民医院")
        page.click("#apply-filter")
        page.locator(".detail-link").first.click()
        assert "/account/consumption/SETLDEMO0005" in page.url, page.url
        assert_accessible(page)
        assert page.locator("#items .badge").first.inner_text() in {"甲类", "乙类", "丙类"}
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        shot("06-detail")

        page.click("nav.tabs >> text=概览")
        with page.expect_download() as info:
            page.click("#download-pdf")
        pdf_path = info.value.path()
        text = "".join(
            pg.extract_text() for pg in PdfReader(io.BytesIO(Path(pdf_path).read_bytes())).pages
        )
        assert "医疗保险个人账户结算单" in text and "期末余额" in text

        page.click("#elder-switch")
        assert "elder" in (page.get_attribute("body", "class") or "")
        assert_accessible(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        shot("07-overview-elder")

        page.click("#lang-switch")
        assert page.locator("h1").first.inner_text() == "Account balance"
        assert_accessible(page)
        shot("08-overview-english-elder")
        page.click("nav.tabs >> text=Spending records")
        assert_accessible(page)
        shot("09-consumption-english-elder")
        browser.close()
