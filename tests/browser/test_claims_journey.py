"""The claims journey in headless Chromium against the real server, on a 360-px phone.

A person submits a claim with two documents (a double submit makes one claim); a clerk finds
the person after giving a reason; a reviewer approves; the person sees each step with its time on
报销进度 and the clerk's look-up on 查询记录; a disputed record reaches the staff queue;
`yibao audit verify` passes, and fails after one audit row is changed in the database.

Everyone signs in through the real pages: the person with a password (and the card password
before 查询记录), staff with a password and TOTP.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from typer.testing import CliRunner

from tests.support.browser import CHROMIUM, assert_accessible, require_chromium
from tests.support.documents import jpeg_with_exif, pdf
from tests.support.identity import CARD_PASSWORD, PASSWORD, member
from tests.support.live_server import ARTIFACTS, BROWSER_ARGS, LiveServer, live_server
from yibao.cli.main import app as cli
from yibao.config import get_settings
from yibao.identity import service as identity
from yibao.kernel.clock import china_today
from yibao.ledger import repository as ledger
from yibao.ledger.domain import EntryKind
from yibao.runtime import build_runtime

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "claims"
PHONE = {"width": 360, "height": 740}
DESK = {"width": 1280, "height": 900}
STAFF_PASSWORD = "Staff@2026"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    require_chromium()
    with live_server(tmp_path) as server:
        yield server


def _seed(server: LiveServer) -> dict[str, Any]:
    async def _work() -> dict[str, Any]:
        runtime = build_runtime(server.settings)
        try:
            async with runtime.sessions() as s:
                person = await member(runtime, s, name="王芳")
                await s.commit()
            async with runtime.sessions() as s:
                secrets = {}
                for username, name, role in (
                    ("clerk1", "张建华", "clerk"),
                    ("reviewer1", "李审核", "reviewer"),
                ):
                    _, secrets[username] = await identity.create_staff(
                        runtime,
                        s,
                        username=username,
                        name=name,
                        password=STAFF_PASSWORD,
                        roles=[role],
                        office="徐汇区医保中心",
                    )
                await s.commit()
            async with runtime.sessions() as s:
                account = await ledger.account_for_person(s, person.person_id, lock=True)
                assert account is not None
                await ledger.post(
                    s,
                    account,
                    ledger.Posting(
                        EntryKind.CONTRIBUTION_CREDIT, 50_000, "browser-fund", "单位缴费"
                    ),
                    runtime.clock.now(),
                )
                entry = await ledger.post(
                    s,
                    account,
                    ledger.Posting(
                        EntryKind.SETTLEMENT_DEBIT,
                        -8_800,
                        "setl:B1:own",
                        "陌生药房",
                        source_type="settlement",
                        source_id="B1",
                    ),
                    runtime.clock.now(),
                )
                await s.commit()
            return {
                "person": person,
                "secrets": secrets,
                "entry_id": entry.id,
                "today": china_today(runtime.clock),
            }
        finally:
            await runtime.close()

    return asyncio.run(_work())


def _staff_sign_in(page: Any, base: str, target: str, username: str, secret: str) -> None:
    page.goto(f"{base}{target}")
    page.wait_for_url("**/staff/login**")
    assert_accessible(page, both_modes=False)
    page.fill("#username", username)
    page.fill("#password", STAFF_PASSWORD)
    page.fill("#totp", pyotp.TOTP(secret).now())
    page.click("button[type=submit]")
    page.wait_for_url(f"**{target}")
    assert_accessible(page, both_modes=False)


def _count_claims(db: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM claims").fetchone()[0])


def test_claim_journey(live: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base, settings = live.base_url, live.settings
    world = _seed(live)
    person = world["person"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    invoice = tmp_path / "发票.jpg"
    invoice.write_bytes(jpeg_with_exif(640, 480))
    certificate = tmp_path / "诊断证明.pdf"
    certificate.write_bytes(pdf())
    db_path = settings.database_url.split("///", 1)[1]

    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            phone = browser.new_context(viewport=PHONE)
            page = phone.new_page()

            # The person signs in on the phone and fills in the claim, with two documents.
            page.goto(f"{base}/claims")
            page.wait_for_url("**/login?next=**")
            page.fill("#identifier", person.phone)
            page.fill("#password", PASSWORD)
            page.click("[data-testid=login-submit]")
            page.wait_for_url("**/claims")
            assert_accessible(page)
            page.click("[data-testid=new-claim]")
            assert_accessible(page)
            page.fill("#fixmedins_name", "北京协和医院")
            page.select_option("#med_type", "13")
            page.fill("#begin_date", (world["today"] - timedelta(days=3)).isoformat())
            page.fill("#end_date", (world["today"] - timedelta(days=2)).isoformat())
            page.fill("#medfee_sumamt", "5000.00")
            page.fill("#fulamt_ownpay_amt", "200.00")
            page.fill("#diagnosis", "急性阑尾炎")
            page.select_option("#not_settled_reason", "out_of_area_emergency")
            page.set_input_files("#invoice", str(invoice))
            page.set_input_files("#diagnosis_doc", str(certificate))
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            page.screenshot(path=str(SHOTS / "01-claim-form.png"), full_page=True)
            # A double tap: the same form posted twice at once, then the real submit.
            statuses = page.evaluate(
                """async () => {
                    const form = document.getElementById('claim-form');
                    const send = () => fetch(form.action, {method: 'POST', body: new FormData(form)});
                    const answers = await Promise.all([send(), send()]);
                    return answers.map(a => a.status);
                }"""
            )
            assert statuses == [200, 200]  # both followed the redirect to the same claim
            page.click("[data-testid=submit-claim]")
            page.wait_for_url("**/claims/*")
            claim_url = page.url
            assert _count_claims(db_path) == 1
            assert page.locator("[data-testid=document]").count() == 2
            assert_accessible(page)
            page.screenshot(path=str(SHOTS / "02-claim-submitted.png"), full_page=True)

            # A clerk finds the person, having said why.
            desk = browser.new_context(viewport=DESK)
            staff_page = desk.new_page()
            _staff_sign_in(staff_page, base, "/staff/persons", "clerk1", world["secrets"]["clerk1"])
            staff_page.select_option("#reason", "counter_visit")
            staff_page.select_option("#by", "id_number")
            staff_page.fill("#value", person.id_number)
            staff_page.click("[data-testid=find]")
            assert_accessible(staff_page, both_modes=False)
            staff_page.click("[data-testid=person-result]")
            assert_accessible(staff_page, both_modes=False)
            masked = staff_page.locator("[data-testid=id-number]").inner_text()
            assert masked != person.id_number and masked.endswith(person.id_number[-4:])
            staff_page.screenshot(path=str(SHOTS / "03-staff-person.png"), full_page=True)

            # A reviewer reviews with the documents beside the form, and approves.
            review = browser.new_context(viewport=DESK)
            review_page = review.new_page()
            _staff_sign_in(
                review_page, base, "/staff/claims", "reviewer1", world["secrets"]["reviewer1"]
            )
            review_page.click("[data-testid=queue-claim]")
            assert_accessible(review_page, both_modes=False)
            assert review_page.locator("[data-testid=document-image]").count() == 1
            review_page.click("[data-testid=start-review]")
            assert review_page.locator("[data-testid=status]").inner_text() == "审核中"
            assert_accessible(review_page, both_modes=False)
            review_page.fill("#overlmt_selfpay", "100.00")
            review_page.click("[data-testid=approve]")
            assert_accessible(review_page, both_modes=False)
            assert review_page.locator("[data-testid=status]").inner_text() == "审核通过"
            review_page.screenshot(path=str(SHOTS / "04-staff-approved.png"), full_page=True)

            # The person sees every step with its time, and the clerk's look-up.
            page.goto(claim_url)
            assert_accessible(page)
            steps = page.locator("[data-testid=step]")
            assert steps.count() == 3
            assert all(t.strip() for t in page.locator("[data-testid=step-time]").all_inner_texts())
            assert "李**" in page.inner_text("[data-testid=timeline]")
            # Shanghai: 5000 − 200 − 100 = 4700 in scope, 1500 deductible, 75% of 3200.
            assert page.inner_text("[data-testid=fund-pay]").startswith("2400.00")
            page.screenshot(path=str(SHOTS / "05-claim-progress.png"), full_page=True)
            page.goto(f"{base}/me/lookups")
            page.wait_for_url("**/verify?next=**")  # 查询记录 needs a fresh verification
            assert_accessible(page)
            page.fill("#card_password", CARD_PASSWORD)
            page.click("form[action='/verify/card-password'] button")
            page.wait_for_url("**/me/lookups")
            assert_accessible(page)
            lookups = page.locator("[data-testid=lookup]").all_inner_texts()
            assert any("窗口办理" in text and "张**" in text for text in lookups)
            assert all("张建华" not in text for text in lookups)
            page.screenshot(path=str(SHOTS / "06-lookups.png"), full_page=True)

            # 这笔不是我: the person disputes the pharmacy record and freezes the account.
            page.goto(f"{base}/disputes/new?entry_id={world['entry_id']}")
            assert_accessible(page)
            page.fill("#statement", "我没有去过这家药房")
            page.check("[data-testid=freeze]")
            page.click("[data-testid=submit-dispute]")
            page.wait_for_url("**/disputes")
            assert_accessible(page)
            assert "账户已冻结" in page.inner_text("[data-testid=dispute]")
            staff_page.goto(f"{base}/staff/disputes")
            assert_accessible(staff_page, both_modes=False)
            staff_page.click("[data-testid=queue-dispute]")
            assert_accessible(staff_page, both_modes=False)
            assert "陌生药房" in staff_page.inner_text("main")
            staff_page.screenshot(path=str(SHOTS / "07-staff-dispute.png"), full_page=True)
        finally:
            browser.close()

    # The trail verifies, and a row changed behind the application's back is named.
    for name, value in {
        "YIBAO_DATABASE_URL": settings.database_url,
        "YIBAO_DATA_KEY": settings.data_key,
        "YIBAO_ENVIRONMENT": "test",
        "YIBAO_VAR_DIR": str(settings.var_dir),
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        ok = runner.invoke(cli, ["audit", "verify"])
        assert ok.exit_code == 0, ok.output
        with sqlite3.connect(db_path) as conn:
            conn.execute("DROP TRIGGER audit_records_no_update")
            row_id = conn.execute("SELECT id FROM audit_records ORDER BY seq LIMIT 1").fetchone()[0]
            conn.execute("UPDATE audit_records SET reason = 'hotline_call' WHERE id = ?", (row_id,))
        broken = runner.invoke(cli, ["audit", "verify"])
        assert broken.exit_code == 2 and f"id={row_id}" in broken.output
    finally:
        get_settings.cache_clear()
