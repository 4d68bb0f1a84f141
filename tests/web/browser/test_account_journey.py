"""The seed's journey in headless Chromium at phone size, on the demo data.

Open the app, sign in, tap 医保查询, pass the step-up, read 账户余额 and check it equals the sum
of the records, open 缴费记录 and 消费记录, filter by time, open a detail, download the PDF,
switch to 长辈版 and to English. Screenshots go to test-artifacts/accounts/.
"""

from __future__ import annotations

import asyncio
import io
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.conftest import TEST_DATA_KEY
from tests.support.principal import install_test_principal, install_test_sign_in
from tests.support.spending import settle
from yibao.config import Settings
from yibao.enrolment import repository as enrolment_repository
from yibao.runtime import build_runtime

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "accounts"
ROOT = Path(__file__).resolve().parents[3]
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _settings(tmp: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=f"sqlite+aiosqlite:///{tmp / 'journey.sqlite3'}",
        data_key=TEST_DATA_KEY,
        secret_key="test-secret-key-" + "x" * 16,
        var_dir=tmp / "var",
        _env_file=None,  # type: ignore[call-arg]
    )


async def _spend(settings: Settings) -> int:
    """The demo person's settlements (the settlement feature's demo adds its own later)."""
    runtime = build_runtime(settings)
    try:
        async with runtime.sessions() as session:
            person = await enrolment_repository.person_by_card_no(session, "A31000001")
            assert person is not None
            now = datetime.now(UTC)
            plan = [
                ("SETLDEMO0001", 400, "H31010400012", "上海市第一人民医院", "11", 32000, 18000, 9000),
                ("SETLDEMO0002", 120, "P31010500631", "老百姓大药房（徐汇店）", "41", 8650, 0, 8650),
                ("SETLDEMO0003", 60, "H31010400012", "上海市第一人民医院", "13", 45600, 30000, 12000),
                ("SETLDEMO0004", 20, "P31010500631", "老百姓大药房（徐汇店）", "41", 2380, 0, 2380),
                ("SETLDEMO0005", 3, "H31010500021", "上海市第六人民医院", "14", 15800, 9500, 4200),
            ]  # fmt: skip
            for setl_id, days_ago, code, name, med_type, total, fund, acct in plan:
                await settle(
                    session, person.id, setl_id, now - timedelta(days=days_ago),
                    total_fen=total, fund_fen=fund, acct_fen=acct, code=code, name=name,
                    med_type=med_type,
                )  # fmt: skip
            return person.id
    finally:
        await runtime.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import uvicorn

    from yibao.db.migrate import upgrade
    from yibao.web.app import create_app

    tmp = tmp_path_factory.mktemp("journey")
    settings = _settings(tmp)
    upgrade(settings.effective_database_url)
    env = {
        **os.environ,
        "YIBAO_DATABASE_URL": settings.database_url,
        "YIBAO_DATA_KEY": TEST_DATA_KEY,
        "YIBAO_SECRET_KEY": settings.secret_key,
        "YIBAO_VAR_DIR": str(tmp / "var"),
        "YIBAO_ENVIRONMENT": "test",
    }
    subprocess.run(
        [str(Path(sys.executable).parent / "yibao"), "demo", "--persons", "12"],
        env=env, cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    person_id = asyncio.run(_spend(settings))
    app = create_app(settings)
    install_test_principal(app)
    install_test_sign_in(app, person_id)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not uv.started:
        if time.time() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(10)


def _fen(text: str) -> int:
    sign = -1 if text.strip().startswith("-") else 1
    whole, cents = text.strip().lstrip("-+¥ ").replace(",", "").split(".")
    return sign * (int(whole) * 100 + int(cents))


def test_the_seed_journey_at_phone_size(server: str) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 360, "height": 740}, device_scale_factor=2, accept_downloads=True,
            locale="zh-CN", service_workers="block",
        )  # fmt: skip
        page = context.new_page()
        shot = lambda name: page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # noqa: E731

        page.goto(server + "/")
        for module in ["医保查询", "缴费记录", "消费记录", "报销进度", "家庭共济", "医保电子凭证"]:
            assert page.get_by_role("link", name=module).count() >= 1
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        shot("01-home")

        page.click("#module-query")
        assert "/login" in page.url
        page.click("#submit")  # sign in
        assert "/verify" in page.url
        page.fill("#code", "123456")
        page.click("#submit")  # the SMS step-up
        assert page.url.endswith("/account")
        balance = int(page.get_attribute("#balance", "data-fen") or "-1")
        assert page.locator("#as-of").inner_text().startswith("数据更新于")
        assert page.locator("svg.chart rect").count() == 12
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        shot("02-overview")

        page.click("nav.tabs >> text=缴费记录")
        page.fill("#c-since", "2000-01")
        page.click("form.filters button[type=submit]")
        credited = _fen(page.inner_text("#credited-total"))
        assert page.locator("#contributions li.record").count() >= 12
        shot("03-contributions")

        page.click("nav.tabs >> text=消费记录")
        # The default window is the last 12 months: the 400-day-old visit is hidden, and said so.
        assert page.locator("#consumption li.record").count() == 4
        assert "隐藏了 1 条记录" in page.inner_text("#hidden-hint")
        shot("04-consumption")
        page.click("#widen")  # the hint's way to see everything
        assert page.locator("#hidden-hint").count() == 0
        spent = sum(
            _fen(t)
            for t in page.locator("#consumption li.record .row strong.amount").all_inner_texts()
        )
        # 账户余额 equals what the records add up to: every credit, less every payment.
        assert balance == credited + spent, (balance, credited, spent)

        page.click("text=重置")
        today = datetime.now(UTC) + timedelta(hours=8)
        page.fill("#f-since", (today - timedelta(days=90)).date().isoformat())
        page.fill("#f-until", today.date().isoformat())
        page.click("#apply-filter")
        assert page.locator("#consumption li.record").count() == 3
        assert "隐藏了 2 条记录" in page.inner_text("#hidden-hint")
        shot("05-consumption-filtered")

        page.locator(".detail-link").first.click()
        assert "/account/consumption/SETLDEMO0005" in page.url
        assert page.locator("#items .badge").first.inner_text() in {"甲类", "乙类", "丙类"}
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
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        shot("07-overview-elder")

        page.click("#lang-switch")
        assert page.locator("h1").first.inner_text() == "Account balance"
        shot("08-overview-english-elder")
        page.click("nav.tabs >> text=Spending records")
        shot("09-consumption-english-elder")
        browser.close()
