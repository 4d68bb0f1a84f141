"""The open API in headless Chromium, end to end: the demo partner (examples/demo_partner.py)
sends the person to yibao's consent page; they sign in, verify, untick 家庭共济 and approve; the
partner reads the balance and the records and gets 403 on family; the person sees the grant and
the reads on 查询记录, revokes the grant, and the partner's next call is 401."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import uvicorn

from tests.conftest import TEST_DATA_KEY
from tests.support.browser import CHROMIUM, assert_accessible, require_chromium
from tests.support.identity import CARD_PASSWORD, PASSWORD, member
from yibao.config import Settings
from yibao.db.migrate import upgrade
from yibao.partners.service import registry
from yibao.runtime import build_runtime
from yibao.web.app import create_app
from yibao_bench.server import free_port

pytestmark = pytest.mark.browser
EXAMPLE = Path(__file__).parents[3] / "examples" / "demo_partner.py"
ARTIFACTS = Path(__file__).parents[3] / "test-artifacts"


def _demo_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo_partner", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def _serve(app: Any, port: int) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    for _ in range(200):
        if server.started:
            return server
        time.sleep(0.05)
    raise RuntimeError("server did not start")


@dataclass
class World:
    yibao: str
    partner: str
    phone: str


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    require_chromium()
    url = f"sqlite+aiosqlite:///{tmp_path / 'open.sqlite3'}"
    upgrade(url)
    settings = Settings(
        environment="test",
        database_url=url,
        data_key=TEST_DATA_KEY,
        var_dir=tmp_path / "var",
        _env_file=None,  # type: ignore[call-arg]
    )
    yibao_port, partner_port = free_port(), free_port()
    redirect = f"http://127.0.0.1:{partner_port}/callback"

    async def seed() -> tuple[str, registry.Credentials]:
        runtime = build_runtime(settings)
        async with runtime.sessions() as session:
            person = await member(runtime, session, name="王小芳")
            await session.commit()
        async with runtime.sessions() as session:
            credentials = await registry.add_partner(
                session,
                runtime.clock,
                registry.Registration("演示应用", "演示科技有限公司", [redirect],
                                      ["balance", "records", "family"], 60),
            )  # fmt: skip
        await runtime.close()
        return person.phone, credentials

    phone, credentials = asyncio.run(seed())
    # yibao answers on `localhost`, the partner on 127.0.0.1: two sites, as in real life.
    yibao = f"http://localhost:{yibao_port}"
    demo = _demo_module()
    yibao_server = _serve(create_app(settings), yibao_port)
    partner_server = _serve(
        demo.create_app(
            demo.Settings(
                yibao=yibao,
                client_id=credentials.partner.client_id,
                client_secret=credentials.client_secret,
                redirect_uri=redirect,
            )
        ),
        partner_port,
    )
    yield World(yibao, f"http://127.0.0.1:{partner_port}", phone)
    for server in (partner_server, yibao_server):
        server.should_exit = True


def test_a_partner_reads_what_was_granted_until_the_person_revokes(world: World) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"],
        )  # fmt: skip
        page = browser.new_context(viewport={"width": 360, "height": 740}).new_page()
        try:
            _journey(page, world)
        except BaseException:
            page.screenshot(path=str(ARTIFACTS / "open-api-journey.png"), full_page=True)
            raise
        finally:
            browser.close()


def _journey(page: Any, world: World) -> None:
    page.goto(world.partner)
    page.get_by_role("link", name="用医保账户登录").click()
    # The consent page sends the person to sign in first, then to verify again.
    page.wait_for_url("**/login?**")
    page.get_by_label("手机号 / 身份证号 / 社保卡号").fill(world.phone)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url("**/verify?**")
    page.get_by_label("医保卡查询密码（6位数字）").fill(CARD_PASSWORD)
    page.get_by_role("button", name="验证", exact=True).click()
    page.wait_for_url("**/oauth/authorize?**")
    assert "演示应用" in page.get_by_test_id("consent-who").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert_accessible(page)
    family = page.get_by_role("checkbox", name="家庭共济")
    assert family.is_checked()
    family.uncheck()
    page.get_by_role("button", name="同意授权").click()
    # Back at the partner, which exchanged the code and read with its token.
    page.wait_for_url(f"{world.partner}/")
    assert page.get_by_test_id("scope").inner_text() == "balance records"
    assert "余额" in page.get_by_test_id("read-balance").inner_text()
    assert "消费记录" in page.get_by_test_id("read-records").inner_text()
    assert "403 insufficient_scope" in page.get_by_test_id("read-family").inner_text()

    page.goto(f"{world.yibao}/me/lookups")
    lookups = page.get_by_test_id("lookup").all_inner_texts()
    assert any("演示应用 读取了你的账户余额" in line for line in lookups), lookups
    assert any("演示应用 读取了你的消费记录" in line for line in lookups), lookups
    assert not any("家庭共济" in line for line in lookups), lookups
    assert_accessible(page)

    page.goto(f"{world.yibao}/me")
    page.get_by_test_id("me-apps").click()
    grant = page.get_by_test_id("grant")
    assert "演示应用" in grant.inner_text() and "账户余额" in grant.inner_text()
    assert "尚未读取" not in page.get_by_test_id("last-read").inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="取消授权").click()
    assert page.get_by_test_id("no-grants").is_visible()
    assert_accessible(page, both_modes=False)

    page.goto(world.partner)
    assert "401 invalid_token" in page.get_by_test_id("read-balance").inner_text()
