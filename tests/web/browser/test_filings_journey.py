"""异地就医备案 on a 360-px phone in headless Chromium, found by the labels a person reads: a
referral without the referring hospital is refused beside the form, kept as typed; a 常驻异地工作
备案 with a photo of the work proof is filed and shows 已生效 on its page and in the list; the
pages pass axe in both the standard and the 长辈版 display. Screenshots: test-artifacts/filings/.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn

from tests.conftest import TEST_DATA_KEY
from tests.support import world
from tests.support.browser import CHROMIUM, assert_accessible, require_chromium
from tests.support.family import photo
from yibao.config import Settings
from yibao.db.migrate import upgrade
from yibao.kernel.clock import SystemClock
from yibao.runtime import build_runtime
from yibao.web.app import create_app
from yibao.web.auth import PersonPrincipal, current_person, stepped_up_person
from yibao_bench.server import free_port

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).parents[3] / "test-artifacts" / "filings"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]  # fmt: skip


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    require_chromium()
    url = f"sqlite+aiosqlite:///{tmp_path / 'b.sqlite3'}"
    upgrade(url)
    settings = Settings(
        environment="test",
        database_url=url,
        data_key=TEST_DATA_KEY,
        var_dir=tmp_path / "var",
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
    principal = PersonPrincipal(
        person_id, 1, "s", SystemClock().now() + timedelta(minutes=30), "cookie"
    )
    app.dependency_overrides[stepped_up_person] = lambda: principal
    app.dependency_overrides[current_person] = lambda: principal
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_a_person_files_a_registration_on_the_phone(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    proof = tmp_path / "工作证明.png"
    proof.write_bytes(photo())
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 360, "height": 740}).new_page()
        # Found from 服务 by what a person would type.
        page.goto(f"{server}/search?q=异地备案")
        page.get_by_role("heading", name="异地就医备案").wait_for()
        assert page.get_by_text("还没有异地就医备案。").is_visible()
        assert_accessible(page)
        page.get_by_role("link", name="办理备案").click()
        page.get_by_role("heading", name="办理异地就医备案").wait_for()
        assert_accessible(page)

        # A referral needs the referring hospital's code: refused beside the form, kept as typed.
        page.get_by_label("备案类型").select_option(label="异地转诊")
        page.get_by_label("就医地", exact=True).fill("北京市")
        page.get_by_label("就医地医保区划代码").fill("110000")
        page.get_by_role("button", name="提交备案").click()
        alert = page.get_by_role("alert")
        alert.wait_for()
        assert "转诊单" in alert.inner_text()
        assert page.get_by_label("就医地", exact=True).input_value() == "北京市"
        assert_accessible(page, both_modes=False)

        # 常驻异地工作 with a photo of the work proof.
        page.get_by_label("备案类型").select_option(label="常驻异地工作")
        page.get_by_label("就医地", exact=True).fill("海南省三亚市")
        page.get_by_label("就医地医保区划代码").fill("460200")
        page.get_by_label("居住或工作证明（照片或 PDF）").set_input_files(str(proof))
        page.screenshot(path=str(ARTIFACTS / "form-360.png"), full_page=True)
        page.get_by_role("button", name="提交备案").click()
        page.get_by_role("heading", name="常驻异地工作").wait_for()
        assert page.get_by_text("已生效", exact=True).is_visible()
        assert "海南省三亚市" in page.get_by_test_id("treatment").inner_text()
        assert "长期有效" in page.get_by_test_id("ends").inner_text()
        assert page.get_by_text("工作证明.png").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        assert_accessible(page)
        page.screenshot(path=str(ARTIFACTS / "filed-360.png"), full_page=True)

        page.get_by_role("link", name="返回我的备案").click()
        row = page.get_by_role("link", name="常驻异地工作 · 海南省三亚市")
        assert "已生效" in row.inner_text()
        browser.close()
