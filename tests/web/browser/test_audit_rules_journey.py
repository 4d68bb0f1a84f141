"""The detail audit end to end in headless Chromium: a clerk proposes an audit rule at
/staff/auditrules (同日重复收费, 提醒), the page offers them no approval of their own proposal; a
reviewer approves it; then a cashier's system — the `yibao fsi` reference client — sends a 3101
with the same drug twice on one day and reads the rule's message, and 3103 says what it did."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest
import uvicorn

from tests.conftest import TEST_DATA_KEY
from tests.support import world
from tests.support.browser import CHROMIUM, require_chromium
from yibao.cli.fsi_client import FsiClient
from yibao.config import Settings
from yibao.db.migrate import upgrade
from yibao.identity import service as identity
from yibao.runtime import build_runtime
from yibao.settlement import service as settlement
from yibao.web.app import create_app
from yibao_bench.server import free_port

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).parents[3] / "test-artifacts"
PASSWORD = "Staff@2026!x"
TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
VALSARTAN = "XC09AAD012A001010104291"
HOSPITAL = "H31010400077"


@dataclass
class World:
    url: str
    token: str
    psn_no: str


def _serve(app: Any, port: int) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    for _ in range(200):
        if server.started:
            return server
        time.sleep(0.05)
    raise RuntimeError("server did not start")


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[World]:
    require_chromium()
    url = f"sqlite+aiosqlite:///{tmp_path / 'audit.sqlite3'}"
    upgrade(url)
    settings = Settings(
        environment="test",
        database_url=url,
        data_key=TEST_DATA_KEY,
        var_dir=tmp_path / "var",
        _env_file=None,  # type: ignore[call-arg]
    )

    async def seed() -> tuple[str, str]:
        runtime = build_runtime(settings)
        try:
            async with runtime.sessions() as s:
                await world.define_regions(s)
                await settlement.import_catalogue(
                    s, [(1, settlement.CatalogueRow(VALSARTAN, "缬沙坦胶囊", "drug", "02", "", ""))]
                )
                person = await world.enrol(runtime, s, name="张伟")
                made = await settlement.add_institution(
                    s,
                    runtime.cipher,
                    runtime.clock,
                    settlement.NewInstitution(
                        HOSPITAL, "上海市测试医院", "310000", level="二级甲等"
                    ),
                )
            for username, name, role in (
                ("zhang", "张经办", "clerk"),
                ("li", "李复核", "reviewer"),
            ):
                async with runtime.sessions() as s:
                    await identity.create_staff(
                        runtime,
                        s,
                        username=username,
                        name=name,
                        password=PASSWORD,
                        roles=[role],
                        office="徐汇区医保中心",
                        totp_secret=TOTP,
                    )
            return person.person.psn_no, made.token
        finally:
            await runtime.close()

    psn_no, token = asyncio.run(seed())
    port = free_port()
    server = _serve(create_app(settings), port)
    yield World(f"http://127.0.0.1:{port}", token, psn_no)
    server.should_exit = True


def _sign_in(page: Any, url: str, username: str) -> None:
    page.goto(url + "/staff/auditrules")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.fill("#totp", pyotp.TOTP(TOTP).now())
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/**")
    page.goto(url + "/staff/auditrules")


def _orders(psn_no: str) -> dict[str, Any]:
    order = {
        "hilist_code": VALSARTAN,
        "hilist_name": "缬沙坦胶囊",
        "cnt": "1",
        "pric": "15.00",
        "sumamt": "15.00",
        "drord_begn_date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    return {
        "data": {
            "trig_scen": "1",
            "patient_dtos": [
                {
                    "patn_id": psn_no,
                    "fsi_encounter_dtos": [
                        {
                            "mdtrt_id": "HIS-0001",
                            "insutype": "310",
                            "fsi_diagnose_dtos": [{"dise_codg": "I10.x00"}],
                            "fsi_order_dtos": [
                                {"rx_id": "RX-1", **order},
                                {"rx_id": "RX-2", **order},
                            ],
                        }
                    ],
                }
            ],
        }
    }


def test_staff_edit_a_rule_and_a_cashier_is_warned(scene: World) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    cashier = FsiClient(scene.url, HOSPITAL, scene.token, region="310000")
    # Before the rule: the same bill draws no finding.
    before = cashier.send("3101", _orders(scene.psn_no))
    assert before["infcode"] == 0 and before["output"]["result"] == [], before

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"],
        )  # fmt: skip
        maker = browser.new_context(viewport={"width": 360, "height": 740}).new_page()
        checker = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page = maker
        try:
            _sign_in(maker, scene.url, "zhang")
            maker.get_by_label("规则编号").fill("R-DUP")
            maker.get_by_label("规则名称").fill("同一药品同日重复开具")
            maker.get_by_label("规则类型").select_option(label="同日重复收费")
            maker.get_by_label("医保目录编码（同日重复收费可填 *）").fill("*")
            maker.get_by_label("处理方式").select_option(label="提醒")
            maker.get_by_label("修改原因").fill("稽核发现重复开药")
            maker.get_by_role("button", name="提交复核").click()
            row = maker.locator("[data-testid=rule-version]").filter(has_text="R-DUP")
            expect(row).to_contain_text("待复核")
            # The maker is offered no approval of their own proposal.
            expect(row.get_by_role("button", name="复核通过")).to_have_count(0)
            # Not yet in force: the cashier still sees nothing.
            assert cashier.send("3101", _orders(scene.psn_no))["output"]["result"] == []

            page = checker
            _sign_in(checker, scene.url, "li")
            row = checker.locator("[data-testid=rule-version]").filter(has_text="R-DUP")
            row.get_by_role("button", name="复核通过").click()
            row = checker.locator("[data-testid=rule-version]").filter(has_text="R-DUP")
            expect(row).to_contain_text("已生效")
            expect(row).to_contain_text("李复核")
        except BaseException:
            page.screenshot(path=str(ARTIFACTS / "audit-rules-journey.png"), full_page=True)
            raise
        finally:
            browser.close()

    answer = cashier.send("3101", _orders(scene.psn_no))
    assert answer["infcode"] == 0, answer
    [found] = answer["output"]["result"]
    assert found["rule_id"] == "R-DUP" and found["sev_deg"] == "2"
    assert (
        "同日重复收费" in found["vola_cont"] and "合并为一条或删除重复的明细" in found["vola_cont"]
    )
    assert found["vola_cont"] in answer["warn_msg"]
    told = cashier.send(
        "3103",
        {
            "data": {
                "warn_type": "1",
                "warns": [{"warn_rslt_id": found["jr_id"], "dspo_way": "2", "dspo_way_rea": ""}],
            }
        },
    )
    assert told["infcode"] == 0 and told["output"]["result"][0]["dspo_way_name"] == "返回修改"
