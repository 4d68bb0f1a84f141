"""家庭共济 end to end in headless Chromium at phone size (issue #9's "Done when").

An employee signs in, checks eligibility (a cousin is refused with the reason), adds a parent with
photos and submits; the parent consents on their own phone; a reviewer approves at /staff; a
pharmacy settles for the parent with the parent's own e-voucher through the institution interface;
the employee sees it in 共济消费明细 and the parent sees who paid; the employee sets a quota the next
purchase exceeds (the rest is cash), then revokes, and the next purchase is all cash.
Screenshots go to test-artifacts/family/.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import secrets
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from PIL import Image

from tests.conftest import TEST_DATA_KEY
from tests.support.browser import CHROMIUM, assert_accessible, require_chromium
from tests.support.world import define_regions, enrol, fund, new_id_number
from yibao.config import Settings
from yibao.identity import service as identity
from yibao.kernel.clock import CHINA_TZ
from yibao.runtime import build_runtime
from yibao.settlement import service as settlement
from yibao.settlement.service.vouchers import issue_ec_token
from yibao_bench.server import free_port

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "test-artifacts" / "family"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]  # fmt: skip
PASSWORD = "Yibao@2026"
CARD_PASSWORD = "135790"
STAFF_PASSWORD = "Staff@2026!x"
TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
PHARMACY = "P31010400001"
PHARMACY_TOKEN = "f" * 32
DRUG = "XN06AXA063A001010101005"  # 丙类: the whole price is the person's share


async def _seed(settings: Settings) -> dict[str, Any]:
    runtime = build_runtime(settings)
    people: dict[str, Any] = {}
    try:
        async with runtime.sessions() as s:
            await define_regions(s)
        async with runtime.sessions() as s:
            await settlement.import_catalogue(
                s, [(1, settlement.CatalogueRow(DRUG, "保健滋补口服液", "drug", "03"))]
            )
        async with runtime.sessions() as s:
            await settlement.add_institution(
                s,
                runtime.cipher,
                runtime.clock,
                settlement.NewInstitution(
                    PHARMACY, "益丰大药房（徐汇店）", "310000", token=PHARMACY_TOKEN
                ),
            )
        for key, name, insutype, birth, phone in (
            ("employee", "王芳", "310", date(1982, 6, 1), "13912340001"),
            ("parent", "王建国", "390", date(1955, 3, 2), "13912340002"),
            ("cousin", "王表哥", "310", date(1984, 2, 2), "13912340003"),
        ):
            id_number = new_id_number(birth=birth)
            async with runtime.sessions() as s:
                enrolled = await enrol(
                    runtime,
                    s,
                    name=name,
                    insutype=insutype,
                    psn_type="1101" if insutype == "310" else "1501",
                    id_number=id_number,
                    phone=phone,
                    birth=birth,
                )
            people[key] = {
                "person_id": enrolled.person.id,
                "psn_no": enrolled.person.psn_no,
                "name": name,
                "id_number": id_number,
                "phone": phone,
            }
            if key != "cousin":
                async with runtime.sessions() as s:
                    await identity.open_account_at_counter(
                        runtime,
                        s,
                        id_number=id_number,
                        phone=phone,
                        password=PASSWORD,
                        card_password=CARD_PASSWORD,
                        by="test",
                    )
        async with runtime.sessions() as s:
            await fund(s, people["employee"]["person_id"], 50_000, "journey:fund")
        async with runtime.sessions() as s:
            await identity.create_staff(
                runtime,
                s,
                username="shenhe",
                name="审核员甲",
                password=STAFF_PASSWORD,
                roles=["reviewer"],
                office="徐汇区医保中心",
                totp_secret=TOTP,
            )
    finally:
        await runtime.close()
    return people


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    require_chromium()
    import uvicorn

    from yibao.db.migrate import upgrade
    from yibao.web.app import create_app

    tmp = tmp_path_factory.mktemp("family-journey")
    settings = Settings(
        environment="test",
        database_url=f"sqlite+aiosqlite:///{tmp / 'journey.sqlite3'}",
        data_key=TEST_DATA_KEY,
        secret_key="test-secret-key-" + "x" * 16,
        var_dir=tmp / "var",
        _env_file=None,  # type: ignore[call-arg]
    )
    upgrade(settings.effective_database_url)
    people = asyncio.run(_seed(settings))
    for name, colour in (("id.png", "navy"), ("hukou.jpg", "darkred")):
        out = io.BytesIO()
        Image.new("RGB", (320, 200), colour).save(
            out, format="PNG" if name.endswith("png") else "JPEG"
        )
        (tmp / name).write_bytes(out.getvalue())
    port = free_port()
    uv = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not uv.started:
        if time.time() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    yield {"url": f"http://127.0.0.1:{port}", "settings": settings, "people": people, "tmp": tmp}
    uv.should_exit = True
    thread.join(timeout=10)


class Pharmacy:
    """The pharmacy's till, speaking the national interface with a signed gateway header."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)
        self.sign_no: str | None = None
        self.seq = 0

    def call(self, infno: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.seq += 1
        now = datetime.now(CHINA_TZ)
        ts, nonce = str(int(time.time())), secrets.token_hex(8)
        signature = hashlib.sha256(f"{ts}{PHARMACY_TOKEN}{nonce}{ts}".encode()).hexdigest()
        body = {
            "infno": infno,
            "msgid": f"{PHARMACY}{now:%Y%m%d%H%M%S}{self.seq:04d}",
            "mdtrtarea_admvs": "310000",
            "insuplc_admdvs": "310000",
            "recer_sys_code": "FSI_LOCAL",
            "infver": "V1.0",
            "opter_type": "1",
            "opter": "001",
            "opter_name": "收银员",
            "inf_time": f"{now:%Y-%m-%d %H:%M:%S}",
            "fixmedins_code": PHARMACY,
            "fixmedins_name": "益丰大药房（徐汇店）",
            "sign_no": self.sign_no,
            "input": payload,
        }
        headers = {
            "x-tif-paasid": PHARMACY.lower(),
            "x-tif-timestamp": ts,
            "x-tif-nonce": nonce,
            "x-tif-signature": signature,
        }
        answer: dict[str, Any] = self.http.post(
            "/fsi/api/rsfComIfsService/callService", json=body, headers=headers
        ).json()
        return answer

    def sell(self, patient: dict[str, Any], token: str, yuan: str) -> dict[str, str]:
        if self.sign_no is None:
            signed = self.call("9001", {"signIn": {"opter_no": "001", "mac": "", "ip": ""}})
            assert signed["infcode"] == 0, signed
            self.sign_no = signed["output"]["signinoutb"]["sign_no"]
        sale = {
            "druginfo": {
                "psn_no": patient["psn_no"],
                "mdtrt_cert_type": "01",
                "mdtrt_cert_no": token,
                "med_type": "41",
                "medfee_sumamt": yuan,
                "insutype": "390",
                "acct_used_flag": "1",
                "psn_setlway": "01",
            },
            "drugdetail": [
                {
                    "feedetl_sn": "1",
                    "med_list_codg": DRUG,
                    "pric": yuan,
                    "cnt": "1",
                    "det_item_fee_sumamt": yuan,
                }
            ],
        }
        answer = self.call("2102", sale)
        assert answer["infcode"] == 0, answer
        setlinfo: dict[str, str] = answer["output"]["setlinfo"]
        return setlinfo


def _voucher(settings: Settings, person_id: int) -> str:
    """What the parent's phone shows as the 医保电子凭证 QR code: their own, never the payer's."""

    async def _issue() -> str:
        runtime = build_runtime(settings)
        try:
            async with runtime.sessions() as s:
                token, _ = await issue_ec_token(s, person_id, runtime.clock, timedelta(minutes=5))
                return token
        finally:
            await runtime.close()

    # Sync Playwright owns this thread's event loop; the token is made on a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _issue()).result()


def test_family_mutual_aid_journey(server: dict[str, Any]) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    url, people, tmp = server["url"], server["people"], server["tmp"]
    me, parent, cousin = people["employee"], people["parent"], people["cousin"]
    till = Pharmacy(url)

    def shot(page: Any, name: str, *, phone_width: bool = True) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        if phone_width:  # nothing runs off a 360-px phone screen
            assert page.evaluate("document.documentElement.scrollWidth") <= 360, name
        assert_accessible(page, both_modes=phone_width)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        phone = {"viewport": {"width": 360, "height": 740}, "locale": "zh-CN"}

        def in_english(page: Any, path: str, name: str, *, known: str) -> str:
            """Opens `path` in English at 360 px; returns the Chinese left besides `known` names."""
            page.context.add_cookies([{"name": "yibao_lang", "value": "en", "url": url}])
            page.set_viewport_size({"width": 360, "height": 740})
            page.goto(url + path)
            shot(page, name)
            text = page.locator("body").text_content() or ""  # with closed <details>
            for word in (*known.split(), "中文"):  # names, and the switch back to Chinese
                text = text.replace(word, "")
            page.context.add_cookies([{"name": "yibao_lang", "value": "zh_CN", "url": url}])
            return "".join(re.findall(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+", text))

        def sign_in(page: Any, who: dict[str, Any], target: str) -> None:
            page.goto(url + target)
            expect(page).to_have_url(re.compile(r"/login"))
            page.fill("#identifier", who["phone"])
            page.fill("#password", PASSWORD)
            page.click("[data-testid=login-submit]")

        # The employee checks eligibility: the cousin is refused, with why and what to do.
        employee = browser.new_context(**phone).new_page()
        sign_in(employee, me, "/family")
        expect(employee.locator("h1").first).to_have_text("家庭共济")
        employee.click("[data-testid=apply]")
        # Checking a relative looks up their record: a step-up first.
        employee.fill("#card_password", CARD_PASSWORD)
        employee.locator("form[action='/verify/card-password'] button").click()
        employee.fill("#name", cousin["name"])
        employee.fill("#id_number", cousin["id_number"])
        employee.select_option("#relation", "other")
        employee.click("[data-testid=check]")
        refusals = employee.locator("[data-testid=refusals]")
        expect(refusals).to_contain_text("堂表兄弟姐妹等其他亲属不能共济")
        expect(refusals).to_contain_text("配偶、父母、子女")
        shot(employee, "01-cousin-refused")

        # A parent passes, and the photos go up with the application.
        employee.fill("#name", parent["name"])
        employee.fill("#id_number", parent["id_number"])
        employee.select_option("#relation", "parent")
        employee.click("[data-testid=check]")
        expect(employee.locator("[data-testid=eligible]")).to_be_visible()
        employee.click("[data-testid=continue]")
        for kind, file in (("id_photo", "id.png"), ("relation_proof", "hukou.jpg")):
            employee.select_option("[data-testid=kind]", kind)
            employee.set_input_files("[data-testid=file]", str(tmp / file))
            employee.click("[data-testid=upload]")
        expect(employee.locator("[data-testid=documents] li")).to_have_count(2)
        shot(employee, "02-documents")
        employee.click("[data-testid=submit]")
        expect(employee.locator("[data-testid=notice]")).to_contain_text("申请已提交")
        expect(employee.locator("[data-testid=beneficiaries]")).to_contain_text("待亲属确认")

        # The same pages in English read in English: only the people's names stay Chinese.
        assert (
            in_english(employee, "/family", "e1-family-en", known=f"{me['name']} {parent['name']}")
            == ""
        )
        expect(employee.locator("h1").first).to_have_text("Family mutual aid")
        expect(employee.locator("[data-testid=beneficiaries]")).to_contain_text(
            "Awaiting the relative's consent"
        )
        assert in_english(employee, "/family/apply", "e2-apply-en", known=me["name"]) == ""
        expect(employee.locator("#relation")).to_contain_text("Grandparent")

        # The parent, an adult with a yibao account, consents on their own phone (PIPL).
        elder = browser.new_context(**phone).new_page()
        sign_in(elder, parent, "/family")
        elder.click("[data-testid=consent-link]")
        expect(elder.locator("body")).to_contain_text("看不到您的药品")
        shot(elder, "03-consent")
        elder.click("[data-testid=agree]")
        expect(elder.locator("[data-testid=notice]")).to_contain_text("进入审核")

        # A reviewer approves at /staff with the documents beside the form.
        staff = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        staff.goto(url + "/staff/family")
        staff.fill("#username", "shenhe")
        staff.fill("#password", STAFF_PASSWORD)
        staff.fill("#totp", pyotp.TOTP(TOTP).now())
        staff.click("button[type=submit]")
        queue_names = f"{me['name']} {parent['name']} 审核员甲 徐汇区医保中心"
        assert in_english(staff, "/staff/family", "e3-staff-queue-en", known=queue_names) == ""
        expect(staff.locator("[data-testid=queue]")).to_contain_text("Online")
        staff.set_viewport_size({"width": 1280, "height": 900})
        staff.goto(url + "/staff/family")
        staff.click("[data-testid=open-case]")
        documents = staff.locator("[data-testid=case-documents] img")
        expect(documents).to_have_count(2)
        staff.wait_for_function(
            "Array.from(document.querySelectorAll('img.document'))"
            ".every(i => i.complete && i.naturalWidth > 0)"
        )
        shot(staff, "04-review", phone_width=False)
        staff.click("[data-testid=approve]")
        expect(staff.locator("[data-testid=notice]")).to_contain_text("已审核通过")

        # The pharmacy settles for the parent with the parent's own e-voucher.
        first = till.sell(parent, _voucher(server["settings"], parent["person_id"]), "100.00")
        assert (first["acct_pay"], first["acct_mulaid_pay"], first["psn_cash_pay"]) == (
            "0.00",
            "100.00",
            "0.00",
        )

        # 共济消费明细 for the employee (still within the apply's step-up); the parent sees who paid.
        employee.goto(url + "/family/payments")
        table = employee.locator("[data-testid=aid-payments]")
        expect(table).to_contain_text("益丰大药房（徐汇店）")
        expect(table).to_contain_text("王建国")
        expect(table).to_contain_text("100.00")
        expect(employee.locator("body")).not_to_contain_text("保健滋补口服液")
        shot(employee, "05-aid-payments")
        # The date fields are as tall as the other fields (they were three times as tall).
        heights = {
            field: employee.get_by_label(field).bounding_box()["height"]  # type: ignore[index]
            for field in ("开始日期", "结束日期", "亲属")
        }
        assert max(heights.values()) <= min(heights.values()) * 1.2, heights
        names = f"{me['name']} {parent['name']} 益丰大药房（徐汇店）"
        assert in_english(employee, "/family/payments", "e4-payments-en", known=names) == ""
        elder.goto(url + "/family")
        expect(elder.locator("[data-testid=supporters]")).to_contain_text("王芳")
        expect(elder.locator("[data-testid=paid-for-me]")).to_have_text("100.00")
        shot(elder, "06-who-pays-for-me")
        names = f"{me['name']} {parent['name']}"
        assert in_english(elder, "/family", "e5-who-pays-for-me-en", known=names) == ""

        # A quota the next purchase exceeds: the rest is cash.
        employee.goto(url + "/family")
        employee.fill("[data-testid=quota-input]", "150.00")
        employee.click("[data-testid=quota-save]")
        expect(employee.locator("[data-testid=notice]")).to_contain_text("额度已更新")
        second = till.sell(parent, _voucher(server["settings"], parent["person_id"]), "80.00")
        assert (second["acct_mulaid_pay"], second["psn_cash_pay"]) == ("50.00", "30.00")
        employee.goto(url + "/family")
        expect(employee.locator("[data-testid=remaining]")).to_have_text("0.00")
        expect(employee.locator("[data-testid=used]")).to_have_text("150.00")
        shot(employee, "07-quota-used")

        # Revoked at once: the next purchase is all cash.
        employee.on("dialog", lambda dialog: dialog.accept())
        employee.click("[data-testid=revoke]")
        expect(employee.locator("[data-testid=notice]")).to_contain_text("已撤销")
        third = till.sell(parent, _voucher(server["settings"], parent["person_id"]), "20.00")
        assert (third["acct_mulaid_pay"], third["psn_cash_pay"]) == ("0.00", "20.00")
        shot(employee, "08-revoked")
        browser.close()
