"""The kiosk (自助查询机) in headless Chromium at 1080×1920, on the real devices: pcscd with vpcd's
virtual reader and a virtual social-security card (tests/support/social_card.py), the kiosk's
bridge (`python -m yibao.web.kiosk.bridge`) reading it through pyscard, and a CUPS PDF queue.

王芳 inserts her card, types the 医保卡密码 on the shuffled keypad (keys found by their digits),
reads her balance, 消费记录 and 共济消费明细 (she pays for her father from her account), prints the
结算单 (read back from the PDF CUPS wrote), takes her card out, and nothing of hers is left in
the page, the browser's storage or its history. Her father then signs in with the 医保电子凭证 QR;
the same QR does not work twice. With the printer disabled the screen says so and offers the
phone. A revoked kiosk is refused. axe-core checks every kiosk page."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import unicodedata
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from tests.support import family as fam
from tests.support.browser import CHROMIUM, assert_accessible, require_chromium
from tests.support.identity import CARD_PASSWORD
from tests.support.live_server import BROWSER_ARGS, LiveServer, live_server
from tests.support.social_card import VirtualSocialCard, start_pcscd
from yibao.enrolment.tables import Person
from yibao.kiosks.service import devices
from yibao.runtime import build_runtime
from yibao.settlement import service as settlement

pytestmark = pytest.mark.browser

PORTRAIT = {"width": 1080, "height": 1920}
QUEUE = "YIBAO_KIOSK_TEST"
PLACE = "市一医院门诊大厅"
PDF_DIR = Path.home() / "PDF"


def _devices_available() -> None:
    missing = [p for p in ("/usr/sbin/pcscd", "/usr/sbin/lpadmin") if not Path(p).exists()]
    try:
        import cups  # noqa: F401
        import smartcard  # noqa: F401
    except ImportError:
        missing.append("pyscard/pycups")
    if missing:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"kiosk devices missing under CI: {missing}", pytrace=False)
        pytest.skip(f"kiosk devices missing: {missing}")


@pytest.fixture
def pcscd(tmp_path: Path) -> Iterator[subprocess.Popen[bytes] | None]:
    """The pcscd this test started (None when the machine runs its own, which it leaves be)."""
    _devices_available()
    process = start_pcscd(tmp_path / "pcscd.log")
    time.sleep(1.0 if process else 0)
    yield process
    if process is not None and process.poll() is None:
        process.terminate()
        process.wait(timeout=10)


def _scheduler_running() -> bool:
    # lpstat -r exits 0 either way; only its words tell ("scheduler is not running").
    said = subprocess.run(["lpstat", "-r"], capture_output=True, text=True).stdout
    return said.strip() == "scheduler is running"


@pytest.fixture
def queue() -> Iterator[str]:
    if not _scheduler_running():
        subprocess.run(["/usr/sbin/cupsd"], check=True)
    # cupsd forks before it listens; on a fresh, loaded machine that takes seconds, and an
    # lpadmin sent too early fails with "Unable to connect to server".
    deadline = time.monotonic() + 60
    while True:
        made = subprocess.run(
            ["lpadmin", "-p", QUEUE, "-v", "cups-pdf:/", "-E", "-m", "lsb/usr/cups-pdf/CUPS-PDF_opt.ppd",
             # Cairo keeps the statement's CJK text as text on its way through PostScript
             # (Ghostscript's renderer turns it into bitmap glyphs nobody can read back).
             "-o", "pdftops-renderer-default=pdftocairo"],
            capture_output=True, text=True,
        )  # fmt: skip
        if made.returncode == 0:
            break
        if time.monotonic() > deadline:
            pytest.fail(
                f"lpadmin could not make the kiosk's queue: {made.stderr.strip()}"
                f" (scheduler running: {_scheduler_running()})",
                pytrace=False,
            )
        time.sleep(1)
    yield QUEUE
    subprocess.run(["lpadmin", "-x", QUEUE], capture_output=True)


@pytest.fixture
def live(tmp_path: Path, pcscd: subprocess.Popen[bytes] | None) -> Iterator[LiveServer]:
    require_chromium()
    with live_server(tmp_path) as server:
        yield server


def _run(work: Any) -> Any:
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()


def _seed(server: LiveServer) -> dict[str, Any]:
    async def _work() -> dict[str, Any]:
        runtime = build_runtime(server.settings)
        try:
            await fam.world(runtime)
            daughter = await fam.employee(runtime, 80_000, name="王芳")
            father = await fam.member(runtime, "王建国")
            await fam.go_online(runtime, daughter)
            await fam.go_online(runtime, father)
            await fam.open_aid(runtime, daughter, father)
            shop = await fam.pharmacy(runtime)
            await fam.buy(runtime, shop, father, 3_600, "kiosk-aid-1")
            async with runtime.sessions() as s:
                for m, no in ((daughter, "K00000001"), (father, "K00000002")):
                    person = await s.get(Person, m.person_id)
                    assert person is not None
                    person.card_no = no
                await s.commit()
            async with runtime.sessions() as s:
                made = await devices.register_kiosk(
                    s, runtime.clock, None, kiosk_id="HALL-01", place=PLACE
                )
            async with runtime.sessions() as s:
                token, _ = await settlement.issue_ec_token(
                    s, father.person_id, runtime.clock, timedelta(minutes=5)
                )
            return {"daughter": daughter, "father": father, "key": made.key, "ec": token}
        finally:
            await runtime.close()

    seeded: dict[str, Any] = _run(_work())
    return seeded


def _revoke(server: LiveServer) -> None:
    async def _work() -> None:
        runtime = build_runtime(server.settings)
        try:
            async with runtime.sessions() as s:
                await devices.revoke_kiosk(s, runtime.clock, None, "HALL-01")
        finally:
            await runtime.close()

    _run(_work())


def _bridge(server: LiveServer, key: str, tmp: Path, queue: str) -> subprocess.Popen[bytes]:
    key_file = tmp / "kiosk.key"
    key_file.write_text(key)
    key_file.chmod(0o600)
    log = (tmp / "bridge.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "yibao.web.kiosk.bridge", "--server", server.base_url,
         "--key-file", str(key_file), "--reader", "Virtual PCD 00 00", "--printer", queue],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


def _nothing_personal(page: Any, secrets: list[str]) -> None:
    html = page.content()
    for secret in secrets:
        assert secret not in html, secret
    stored = page.evaluate(
        "() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage),"
        " document.cookie])"
    )
    for secret in secrets:
        assert secret not in stored, secret
    cookies = {c["name"] for c in page.context.cookies()}
    assert "yibao_kiosk_session" not in cookies


def test_kiosk_journey(
    live: LiveServer, tmp_path: Path, queue: str, pcscd: subprocess.Popen[bytes] | None
) -> None:
    from playwright.sync_api import expect, sync_playwright

    seeded = _seed(live)
    daughter, father = seeded["daughter"], seeded["father"]
    bridge = _bridge(live, seeded["key"], tmp_path, queue)
    card = VirtualSocialCard("K00000001", daughter.id_number, daughter.name)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            context = browser.new_context(viewport=PORTRAIT, locale="zh-CN")
            page = context.new_page()
            page.goto(f"{live.base_url}/kiosk")
            expect(page).to_have_url(f"{live.base_url}/kiosk/setup")
            assert_accessible(page, both_modes=False)
            page.get_by_label("本机密钥").fill(seeded["key"])
            page.get_by_role("button", name="保存").click()
            expect(page.get_by_role("heading", name="欢迎使用医保自助查询")).to_be_visible()
            assert_accessible(page, both_modes=False)

            # Cards the kiosk cannot use: the screen says why until they come out.
            for other, words in (
                (VirtualSocialCard(social=False), "无法识别这张卡"),
                (VirtualSocialCard("K99999999", "110101199001011237", "路人"), "没有参保登记信息"),
            ):
                other.insert()
                expect(page.locator("#card-message")).to_contain_text(words, timeout=15_000)
                assert_accessible(page, both_modes=False)
                other.remove()
                expect(page.locator("#card-message")).to_be_hidden(timeout=15_000)

            # The card goes in: the bridge reads it through pcscd and the screen asks for the
            # password on a keypad whose digits move every time.
            card.insert()
            expect(page.get_by_role("heading", name="请输入医保卡密码")).to_be_visible(
                timeout=15_000
            )
            assert_accessible(page, both_modes=False)
            first = [k.inner_text() for k in page.locator("[data-digit]").all()]
            page.reload()
            again = [k.inner_text() for k in page.locator("[data-digit]").all()]
            assert sorted(first) == sorted(again) == list("0123456789")
            for digit in CARD_PASSWORD:
                page.get_by_role("button", name=digit, exact=True).click()
            page.get_by_role("button", name="确定").click()
            expect(page.get_by_role("heading", name="您好，王*")).to_be_visible()
            assert_accessible(page, both_modes=False)
            texts = [b.inner_text() for b in page.locator(".kiosk-button").all()]
            assert all(len(t) >= 2 for t in texts)
            size = page.evaluate(
                "() => [parseFloat(getComputedStyle(document.querySelector('.kiosk-hint,p')).fontSize),"
                " Math.min(...[...document.querySelectorAll('button, a')].filter(e => e.getClientRects().length).map(e => e.getBoundingClientRect().height))]"
            )
            assert size[0] >= 18 and size[1] >= 60, size

            page.get_by_role("link", name="账户余额").click()
            expect(page.locator("#balance")).to_contain_text("764.00")  # 800.00 − 36.00
            expect(page.locator("#as-of")).to_contain_text("数据更新于")
            assert_accessible(page, both_modes=False)
            page.get_by_role("link", name="返回菜单").click()
            page.get_by_role("link", name="消费记录").click()
            expect(page.locator("#consumption")).to_contain_text("测试大药房")
            expect(page.locator("#consumption")).to_contain_text("为家人 王建国 支付")
            assert_accessible(page, both_modes=False)
            page.get_by_role("link", name="返回菜单").click()
            page.get_by_role("link", name="家庭共济").click()
            expect(page.locator("#aid-paid")).to_contain_text("王建国")
            expect(page.locator("#aid-paid")).to_contain_text("36.00")
            assert_accessible(page, both_modes=False)

            # English for this visit.
            page.get_by_role("link", name="English").click()
            expect(page.get_by_role("link", name="Back to menu")).to_be_visible()
            assert_accessible(page, both_modes=False)
            page.get_by_role("link", name="中文").click()

            # Print the 结算单: CUPS writes the PDF; its text comes back.
            page.get_by_role("link", name="返回菜单").click()
            page.get_by_role("link", name="打印结算单").click()
            assert_accessible(page, both_modes=False)
            before = set(PDF_DIR.glob("yibao-statement-*.pdf")) if PDF_DIR.exists() else set()
            page.get_by_role("button", name="打印", exact=True).click()
            expect(page.locator("#print-state")).to_have_attribute(
                "data-state", "printed", timeout=60_000
            )
            assert_accessible(page, both_modes=False)
            printed = sorted(set(PDF_DIR.glob("yibao-statement-*.pdf")) - before)
            assert printed, "CUPS wrote no PDF"
            printed_text = unicodedata.normalize(
                "NFKC", "".join(p.extract_text() for p in PdfReader(printed[-1]).pages)
            )
            assert "医疗保险个人账户结算单" in printed_text
            assert "王芳" in printed_text and "764.00" in printed_text.replace(",", "")
            printed[-1].unlink()

            # The card comes out: the screen clears itself and says why.
            card.remove()
            expect(page.locator("#message")).to_contain_text("社保卡已取出", timeout=15_000)
            _nothing_personal(page, ["王芳", "王*", "764.00", "王建国", daughter.id_number])
            page.go_back()
            page.wait_for_load_state("load")
            _nothing_personal(page, ["王芳", "王*", "764.00", "王建国", daughter.id_number])

            # The father scans his 医保电子凭证; the same code is refused a second time.
            page.goto(f"{live.base_url}/kiosk")
            page.get_by_role("link", name="扫医保电子凭证").click()
            assert_accessible(page, both_modes=False)
            page.get_by_label("扫码结果").fill(seeded["ec"])
            page.get_by_label("扫码结果").press("Enter")
            expect(page.get_by_role("heading", name="您好，王**")).to_be_visible()
            page.get_by_role("link", name="家庭共济").click()
            expect(page.locator("#aid-received")).to_contain_text("王芳")
            assert_accessible(page, both_modes=False)

            # The printer goes offline: a clear sentence and the phone instead.
            subprocess.run(["cupsdisable", queue], check=True)
            time.sleep(3)  # the bridge's next heartbeat carries the printer's state
            page.get_by_role("link", name="返回菜单").click()
            page.get_by_role("link", name="打印结算单").click()
            page.get_by_role("button", name="打印", exact=True).click()
            expect(page.locator("#print-error")).to_contain_text("暂时无法打印")
            assert_accessible(page, both_modes=False)
            page.get_by_role("button", name="发送到手机").click()
            expect(page.locator("#print-sent")).to_be_visible()
            if pcscd is not None:
                # The reader goes away mid-session (pcscd stops): the session ends with it.
                pcscd.terminate()
                pcscd.wait(timeout=10)
                expect(page.locator("#message")).to_contain_text("读卡器连接中断", timeout=15_000)
            else:
                page.get_by_role("button", name="退出").click()
                expect(page.locator("#message")).to_contain_text("您已退出")
            assert_accessible(page, both_modes=False)
            _nothing_personal(page, ["王建国", "王**", father.id_number])

            page.goto(f"{live.base_url}/kiosk/voucher")
            page.get_by_label("扫码结果").fill(seeded["ec"])
            page.get_by_label("扫码结果").press("Enter")
            expect(page.locator("#voucher-error")).to_contain_text("已经用过")

            # Revoked: refused at the next call.
            _revoke(live)
            page.goto(f"{live.base_url}/kiosk")
            expect(page.locator("#message")).to_contain_text("本机已停用")
            assert_accessible(page, both_modes=False)
            browser.close()
    finally:
        card.remove()
        bridge.terminate()
        bridge.wait(timeout=10)


LANDSCAPE = {"width": 1920, "height": 1080}


def _seed_vouchers(server: LiveServer) -> dict[str, Any]:
    async def _work() -> dict[str, Any]:
        runtime = build_runtime(server.settings)
        try:
            await fam.world(runtime)
            person = await fam.employee(runtime, 20_000, name="李华")
            async with runtime.sessions() as s:
                made = await devices.register_kiosk(
                    s, runtime.clock, None, kiosk_id="HALL-02", place="社区医保服务站"
                )
            tokens = []
            for _ in range(3):
                async with runtime.sessions() as s:
                    token, _ = await settlement.issue_ec_token(
                        s, person.person_id, runtime.clock, timedelta(minutes=5)
                    )
                    tokens.append(token)
            return {"key": made.key, "tokens": tokens}
        finally:
            await runtime.close()

    seeded: dict[str, Any] = _run(_work())
    return seeded


@pytest.fixture
def plain_live(tmp_path: Path) -> Iterator[LiveServer]:
    require_chromium()
    with live_server(tmp_path) as server:
        yield server


def test_kiosk_landscape_idle_and_lost_server(plain_live: LiveServer) -> None:
    """At 1920×1080: large type and targets; the server lost mid-session wipes the screen and,
    once back, the session is ended; 60 s without a touch brings the 10-s countdown, then the
    session ends by itself. The browser's clock is Playwright's, moved by the test."""
    from playwright.sync_api import expect, sync_playwright

    live = plain_live
    seeded = _seed_vouchers(live)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        context = browser.new_context(viewport=LANDSCAPE, locale="zh-CN")
        page = context.new_page()
        page.clock.install()
        page.goto(f"{live.base_url}/kiosk/setup")
        page.get_by_label("本机密钥").fill(seeded["key"])
        page.get_by_role("button", name="保存").click()
        page.get_by_role("link", name="身份证号 + 短信验证码").click()
        assert_accessible(page, both_modes=False)
        page.goto(f"{live.base_url}/kiosk/voucher")
        page.get_by_label("扫码结果").fill(seeded["tokens"][0])
        page.get_by_label("扫码结果").press("Enter")
        expect(page.get_by_role("heading", name="您好，李*")).to_be_visible()
        measured = page.evaluate(
            "() => [Math.min(...[...document.querySelectorAll('main p, main a, main h1, header a, header button')]"
            ".filter(e => e.getClientRects().length).map(e => parseFloat(getComputedStyle(e).fontSize))),"
            " Math.min(...[...document.querySelectorAll('button, a')].filter(e => e.getClientRects().length)"
            ".map(e => e.getBoundingClientRect().height)), document.documentElement.scrollWidth]"
        )
        assert measured[0] >= 18 and measured[1] >= 60 and measured[2] <= 1920, measured
        assert_accessible(page, both_modes=False)

        # The server goes away: the screen clears what it showed; when it answers again the
        # session is ended rather than picked up.
        page.get_by_role("link", name="账户余额").click()
        expect(page.locator("#balance")).to_contain_text("200.00")
        context.set_offline(True)
        page.clock.run_for(3_000)
        expect(page.locator("#offline")).to_be_visible()
        assert "200.00" not in page.locator("#main").inner_text()
        context.set_offline(False)
        page.clock.run_for(2_000)
        expect(page.locator("#message")).to_contain_text("您已退出")
        assert "200.00" not in page.content()

        page.goto(f"{live.base_url}/kiosk/voucher")
        page.get_by_label("扫码结果").fill(seeded["tokens"][1])
        page.get_by_label("扫码结果").press("Enter")
        page.get_by_role("button", name="退出").click()
        expect(page.locator("#message")).to_contain_text("您已退出")
        assert "yibao_kiosk_session" not in {c["name"] for c in context.cookies()}

        # A minute without a touch: the countdown, then the session ends by itself.
        page.goto(f"{live.base_url}/kiosk/voucher")
        page.get_by_label("扫码结果").fill(seeded["tokens"][2])
        page.get_by_label("扫码结果").press("Enter")
        expect(page.get_by_role("heading", name="您好，李*")).to_be_visible()
        page.clock.run_for(51_000)
        expect(page.get_by_role("alertdialog")).to_be_visible()
        expect(page.locator("#countdown-seconds")).not_to_have_text("10")
        assert_accessible(page, both_modes=False)
        page.clock.run_for(11_000)
        expect(page.locator("#message")).to_contain_text("长时间没有操作")
        page.go_back()
        page.wait_for_load_state("load")
        assert "李*" not in page.content()
        browser.close()
