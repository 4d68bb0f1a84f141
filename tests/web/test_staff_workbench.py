"""The staff workbench through the app: reasons, masking, roles, maker-checker, the trail."""

from __future__ import annotations

import httpx

from tests.support.claims import claim_files, claim_form
from tests.support.principals import staff_header
from tests.support.world import define_regions, enrol, fund, new_id_number
from yibao.audit import repository as audit_repository
from yibao.ledger import repository as ledger
from yibao.runtime import Runtime

CLERK = staff_header(11, "张建华", "clerk", "徐汇区医保中心")
REVIEWER = staff_header(12, "李审核", "reviewer", "徐汇区医保中心")
ADMIN = staff_header(13, "王管理", "admin", "市医保中心")
ADMIN_2 = staff_header(14, "赵管理", "admin", "市医保中心")


async def _person(runtime: Runtime) -> tuple[int, str]:
    id_number = new_id_number()
    async with runtime.sessions() as s:
        await define_regions(s)
        person = (await enrol(runtime, s, name="王芳", id_number=id_number)).person
    async with runtime.sessions() as s:
        await fund(s, person.id, 30_000, f"fund-{person.id}")
    return person.id, id_number


async def test_no_staff_route_answers_without_a_staff_session(web: httpx.AsyncClient) -> None:
    for path in ("/staff/persons", "/staff/claims", "/staff/audit", "/staff/adjustments"):
        for headers in ({}, {"x-test-person": "1;stepped"}):
            response = await web.get(path, headers=headers)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/staff/login?next=")


async def test_find_with_a_reason_then_masked_view_and_audited_unmask(
    web: httpx.AsyncClient, runtime: Runtime
) -> None:
    person_id, id_number = await _person(runtime)
    no_reason = await web.post(
        "/staff/persons", data={"by": "id_number", "value": id_number}, headers=CLERK
    )
    assert no_reason.status_code == 422 and "请先选择查询事由" in no_reason.text
    found = await web.post(
        "/staff/persons",
        data={"reason": "counter_visit", "by": "id_number", "value": id_number},
        headers=CLERK,
    )
    assert f"/staff/persons/{person_id}?reason=counter_visit" in found.text
    assert id_number not in found.text
    page = await web.get(f"/staff/persons/{person_id}?reason=counter_visit", headers=CLERK)
    assert page.status_code == 200 and id_number not in page.text and "300.00" in page.text
    assert (await web.get(f"/staff/persons/{person_id}", headers=CLERK)).status_code == 422
    shown = await web.post(
        f"/staff/persons/{person_id}/unmask",
        data={"field": "id_number", "reason": "counter_visit"},
        headers=CLERK,
    )
    assert id_number in shown.text
    refused = await web.post(
        f"/staff/persons/{person_id}/unmask",
        data={"field": "id_number", "reason": "claim_review"},
        headers=REVIEWER,
    )
    assert refused.status_code == 403 and id_number not in refused.text
    async with runtime.sessions() as s:
        actions = [r.action for r in await audit_repository.lookups_of(s, person_id)]
    assert actions == ["person.view", "person.unmask", "person.view", "person.lookup"]


async def test_claim_review_roles_and_documents(web: httpx.AsyncClient, runtime: Runtime) -> None:
    person_id, _ = await _person(runtime)
    sent = await web.post(
        "/api/v1/claims",
        data=claim_form(runtime),
        files=claim_files(),
        headers={"x-test-person": str(person_id)},
    )
    claim_id = sent.json()["id"]
    queue = await web.get("/staff/claims", headers=REVIEWER)
    assert f"/staff/claims/{claim_id}" in queue.text
    page = await web.get(f"/staff/claims/{claim_id}", headers=REVIEWER)
    assert 'data-testid="document-image"' in page.text
    image = await web.get(f"/staff/claims/{claim_id}/documents/1", headers=REVIEWER)
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert (await web.post(f"/staff/claims/{claim_id}/review", headers=CLERK)).status_code == 403
    assert (await web.post(f"/staff/claims/{claim_id}/review", headers=REVIEWER)).status_code == 303
    split = {"fulamt_ownpay_amt": "34.50", "overlmt_selfpay": "0", "preselfpay_amt": "0"}
    clerk_try = await web.post(f"/staff/claims/{claim_id}/approve", data=split, headers=CLERK)
    assert clerk_try.status_code == 403 and "无权" in clerk_try.text
    approved = await web.post(f"/staff/claims/{claim_id}/approve", data=split, headers=REVIEWER)
    assert approved.status_code == 303
    page = await web.get(f"/staff/claims/{claim_id}", headers=CLERK)
    assert 'data-testid="pay"' in page.text and "审核通过" in page.text


async def test_adjustment_needs_a_second_administrator(
    web: httpx.AsyncClient, runtime: Runtime
) -> None:
    person_id, _ = await _person(runtime)
    form = {
        "person_id": str(person_id),
        "kind": "staff_adjustment",
        "amount": "12.34",
        "reason": "补记漏划金额",
    }
    assert (await web.post("/staff/adjustments", data=form, headers=REVIEWER)).status_code == 403
    assert (await web.post("/staff/adjustments", data=form, headers=ADMIN)).status_code == 303
    pending = await web.get("/staff/adjustments", headers=ADMIN)
    assert "补记漏划金额" in pending.text and 'data-testid="approve-adjustment"' not in pending.text
    own = await web.post("/staff/adjustments/1/approve", headers=ADMIN)
    assert own.status_code == 403 and "另一位管理员" in own.text
    assert (await web.post("/staff/adjustments/1/approve", headers=CLERK)).status_code == 403
    assert (await web.post("/staff/adjustments/1/approve", headers=ADMIN_2)).status_code == 303
    async with runtime.sessions() as s:
        account = await ledger.account_for_person(s, person_id)
        assert account is not None and account.balance_fen == 30_000 + 1_234


async def test_audit_trail_is_for_administrators(web: httpx.AsyncClient, runtime: Runtime) -> None:
    person_id, id_number = await _person(runtime)
    await web.post(
        "/staff/persons",
        data={"reason": "hotline_call", "by": "id_number", "value": id_number},
        headers=CLERK,
    )
    assert (await web.get("/staff/audit", headers=CLERK)).status_code == 403
    page = await web.get("/staff/audit?verify=1", headers=ADMIN)
    assert page.text.count('data-testid="audit-row"') == 1
    assert "张建华" in page.text and "热线来电" in page.text and "哈希链完整" in page.text


async def test_unlock_an_online_account(web: httpx.AsyncClient, runtime: Runtime) -> None:
    from datetime import timedelta

    from tests.support.identity import member
    from yibao.identity import repository as identity_repository
    from yibao.identity import service as identity
    from yibao.identity.domain import LockState

    async with runtime.sessions() as s:
        person = await member(runtime, s)
        await s.commit()
    async with runtime.sessions() as s:
        # A real staff row: identity's security events name the staff member by key.
        clerk_row, _ = await identity.create_staff(
            runtime,
            s,
            username="clerk9",
            name="张建华",
            password="Staff@2026",
            roles=["clerk"],
            office="徐汇区医保中心",
        )
        await s.commit()
    clerk = staff_header(clerk_row.id, "张建华", "clerk", "徐汇区医保中心")
    async with runtime.sessions() as s:
        account = await identity_repository.account(s, person.account_id, lock=True)
        assert account is not None
        identity_repository.set_lock_state(
            account, LockState(locked_until=runtime.clock.now() + timedelta(minutes=30))
        )
        await s.commit()
    path = f"/staff/persons/{person.person_id}/unlock"
    refused = await web.post(path, data={"reason": "hotline_call"}, headers=REVIEWER)
    assert refused.status_code == 403
    done = await web.post(path, data={"reason": "hotline_call"}, headers=clerk)
    assert done.status_code == 200 and "网上账户已解锁" in done.text
    async with runtime.sessions() as s:
        account = await identity_repository.account(s, person.account_id)
        assert account is not None
        assert not identity_repository.lock_state(account).is_locked(runtime.clock.now())
        actions = [r.action for r in await audit_repository.records_between(s, None, None)]
    assert actions == ["account.unlock", "person.view"]
