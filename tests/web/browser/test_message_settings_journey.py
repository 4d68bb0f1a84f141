"""消息设置 in headless Chromium at phone size: the person signs in, opens 我的 → 消息设置, ticks
「划入时也发短信提醒我」, saves, and finds it still ticked when they come back; then turns it off."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.browser import assert_accessible, require_chromium
from tests.support.live_server import BROWSER_ARGS, live_server
from yibao.cli.demo import DEMO_PASSWORD, DEMO_PHONE

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    tmp = tmp_path_factory.mktemp("message-settings")
    with live_server(tmp) as live:
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
        subprocess.run([yibao, "demo", "--persons", "2"], env=env, cwd=tmp, check=True,
                       capture_output=True)  # fmt: skip
        yield live.base_url


def test_the_person_asks_for_credit_sms_and_takes_it_back(server: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
        context = browser.new_context(
            viewport={"width": 360, "height": 740}, locale="zh-CN", service_workers="block"
        )
        page = context.new_page()
        page.goto(server + "/login?next=/me")
        page.get_by_label("手机号 / 身份证号 / 社保卡号").fill(DEMO_PHONE)
        page.get_by_label("密码", exact=True).fill(DEMO_PASSWORD)
        page.get_by_test_id("login-submit").click()
        assert page.url.endswith("/me"), page.url

        page.get_by_role("link", name="消息设置").click()
        box = page.get_by_label("划入时也发短信提醒我")
        assert not box.is_checked()  # off until the person asks
        assert_accessible(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        box.check()
        page.get_by_role("button", name="保存").click()
        assert page.get_by_text("已保存").is_visible()

        page.goto(server + "/messages")
        page.get_by_role("link", name="消息设置").click()
        box = page.get_by_label("划入时也发短信提醒我")
        assert box.is_checked()
        box.uncheck()
        page.get_by_role("button", name="保存").click()
        page.goto(server + "/messages/settings")
        assert not page.get_by_label("划入时也发短信提醒我").is_checked()
        browser.close()
