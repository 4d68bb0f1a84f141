"""A pharmacy settles a sale and uploads its 电子结算凭证 (2102, 4901 over HTTP, as its POS would);
the person, on a 360-px phone, opens 消费记录, the sale's detail, sees the voucher and downloads
it: the bytes are the document the pharmacy sent. Found by the words on screen."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import CHROMIUM, assert_accessible, require_chromium
from tests.support.live_server import ARTIFACTS, BROWSER_ARGS, live_server
from tests.support.vouchers import PDF
from yibao.cli.demo import DEMO_ID_NUMBER, DEMO_PASSWORD, DEMO_PHONE
from yibao.cli.demo_settlement import demo_token
from yibao.cli.fsi_client import FsiClient, succeeded
from yibao.cli.selftest.command import DEMO_CODES

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "settlement-voucher"
PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    tmp = tmp_path_factory.mktemp("settlement-voucher")
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
        subprocess.run([yibao, "demo", "--persons", "2", "--months", "1"], env=env, cwd=tmp,
                       check=True, capture_output=True)  # fmt: skip
        yield live.base_url


def _sale_with_voucher(base: str) -> str:
    """The demo pharmacy sells to 李明 and uploads the sale's voucher; the setl_id."""
    code = DEMO_CODES["pharmacy"]
    pos = FsiClient(base, code, demo_token(code), region="310000")
    pos.sign_in()
    cert = {"mdtrt_cert_type": "02", "mdtrt_cert_no": DEMO_ID_NUMBER}
    person = pos.call("1101", {"data": {**cert, "psn_cert_type": "01", "certno": DEMO_ID_NUMBER}})
    psn_no = person["output"]["baseinfo"]["psn_no"]
    sale = {
        "druginfo": {"psn_no": psn_no, **cert, "med_type": "41", "medfee_sumamt": "25.00",
                     "insutype": "310", "acct_used_flag": "1", "psn_setlway": "01"},
        "drugdetail": [{"feedetl_sn": "1", "med_list_codg": "XJ01CA04A00134840396700",
                        "pric": "12.50", "cnt": "2", "det_item_fee_sumamt": "25.00"}],
    }  # fmt: skip
    setlinfo = pos.call("2102", sale)["output"]["setlinfo"]
    names = ("medfee_sumamt", "fund_pay_sumamt", "acct_pay", "acct_mulaid_pay", "psn_cash_pay")
    voucher = {
        "setl_id": setlinfo["setl_id"], "psn_no": psn_no, "psn_name": setlinfo["psn_name"],
        "bill_code": "31010126", "bill_no": "0000098765", "bill_chkcode": "9f8e7d",
        "bill_time": setlinfo["setl_time"], "biller": "收银员",
        "bill_amt": setlinfo["medfee_sumamt"], **{n: setlinfo[n] for n in names},
        "file_name": "电子结算凭证.pdf", "file": base64.b64encode(PDF).decode(),
    }  # fmt: skip
    answer = pos.send("4901", {"data": voucher})
    assert succeeded(answer), answer
    return str(setlinfo["setl_id"])


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


def _sign_in(page: Any, base: str) -> None:
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


def test_the_person_opens_the_sale_and_downloads_its_voucher(server: str, browser: Any) -> None:
    setl_id = _sale_with_voucher(server)
    context = browser.new_context(
        viewport=PHONE, locale="zh-CN", service_workers="block", accept_downloads=True
    )
    page = context.new_page()
    _sign_in(page, server)
    page.get_by_role("link", name="消费记录").first.click()
    assert "/account/consumption" in page.url, page.url
    # The newest record is the sale just made: its 查看明细.
    page.get_by_role("link", name=re.compile("查看明细")).first.click()
    assert page.url.endswith(f"/account/consumption/{setl_id}"), page.url
    section = page.get_by_role("region", name="电子结算凭证")
    assert section.is_visible()
    assert section.get_by_text("0000098765").is_visible()
    assert section.get_by_text("25.00").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(page)
    page.screenshot(path=str(SHOTS / "01-detail-with-voucher.png"), full_page=True)

    with page.expect_download() as downloading:
        section.get_by_role("link", name="下载电子结算凭证").click()
    download = downloading.value
    assert download.suggested_filename.endswith(".pdf"), download.suggested_filename
    saved = SHOTS / "voucher.pdf"
    download.save_as(str(saved))
    assert saved.read_bytes() == PDF
    context.close()
