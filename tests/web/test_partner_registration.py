"""合作应用 at /staff: one staff member proposes, another administrator approves and sees the
client secret once; the proposer cannot approve their own; administrators suspend."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from tests.support.principals import staff_header
from yibao.partners.tables import Partner
from yibao.runtime import Runtime

CLERK = staff_header(11, "陈经办", "clerk", "市医保中心")
ADMIN = staff_header(12, "吴管理", "admin", "市医保中心")
ADMIN_2 = staff_header(13, "郑管理", "admin", "市医保中心")

FORM = {
    "name": "支付宝",
    "company": "支付宝（中国）网络技术有限公司",
    "redirect_uris": "https://alipay.example/yibao/callback",
    "scope": ["balance", "records"],
    "rate_limit": "120",
}


async def test_staff_register_a_partner_under_maker_checker(
    web: httpx.AsyncClient, runtime: Runtime
) -> None:
    page = await web.get("/staff/partners", headers=CLERK)
    assert page.status_code == 200 and "登记合作应用" in page.text
    proposed = await web.post("/staff/partners", data=FORM, headers=ADMIN)
    assert proposed.status_code == 303
    async with runtime.sessions() as s:
        partner = (await s.execute(select(Partner))).scalar_one()
    assert partner.status == "proposed" and partner.scopes == "balance records"
    # The proposer sees no approve button, and a direct post is refused.
    own = await web.get("/staff/partners", headers=ADMIN)
    assert "approve-partner" not in own.text
    refused = await web.post(f"/staff/partners/{partner.id}/approve", headers=ADMIN)
    assert refused.status_code == 403
    clerk = await web.post(f"/staff/partners/{partner.id}/approve", headers=CLERK)
    assert clerk.status_code == 403
    approved = await web.post(f"/staff/partners/{partner.id}/approve", headers=ADMIN_2)
    assert approved.status_code == 200
    secret = re.search(r'data-testid="client-secret">([^<]+)<', approved.text)
    assert secret is not None and len(secret.group(1)) >= 40
    # Shown once: the list never shows it again.
    again = await web.get("/staff/partners", headers=ADMIN_2)
    assert secret.group(1) not in again.text and "已启用" in again.text
    suspended = await web.post(
        "/staff/partners/suspend", data={"client_id": partner.client_id}, headers=CLERK
    )
    assert suspended.status_code == 403
    suspended = await web.post(
        "/staff/partners/suspend", data={"client_id": partner.client_id}, headers=ADMIN
    )
    assert suspended.status_code == 303
    assert "已停用" in (await web.get("/staff/partners", headers=ADMIN)).text


async def test_a_bad_registration_is_shown_on_the_form(web: httpx.AsyncClient) -> None:
    bad = await web.post(
        "/staff/partners",
        data={**FORM, "redirect_uris": "http://alipay.example/cb"},
        headers=CLERK,
    )
    assert bad.status_code == 422 and "https" in bad.text
    assert 'value="支付宝"' in bad.text
