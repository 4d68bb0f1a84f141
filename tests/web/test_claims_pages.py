"""The person's claim, 查询记录 and dispute pages through the app (no browser)."""

from __future__ import annotations

import httpx

from tests.support.claims import claim_files, claim_form, two_people
from yibao.audit import repository as audit_repository
from yibao.claims.domain import StaffActor
from yibao.claims.service import claims
from yibao.runtime import Runtime

REVIEWER = StaffActor(7, "李审核", frozenset({"reviewer"}), "徐汇区医保中心")


async def test_pages_send_strangers_to_sign_in(web: httpx.AsyncClient) -> None:
    response = await web.get("/claims")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/claims"


async def test_submit_see_progress_reject_and_resubmit(
    web: httpx.AsyncClient, runtime: Runtime
) -> None:
    me, other, _ = await two_people(runtime)
    mine = {"x-test-person": str(me)}
    new = await web.get("/claims/new", headers=mine)
    assert new.status_code == 200 and 'name="request_key"' in new.text
    sent = await web.post("/claims", data=claim_form(runtime), files=claim_files(), headers=mine)
    assert sent.status_code == 303
    again = await web.post("/claims", data=claim_form(runtime), files=claim_files(), headers=mine)
    assert again.headers["location"] == sent.headers["location"]
    claim_id = int(sent.headers["location"].rsplit("/", 1)[1])

    page = await web.get(f"/claims/{claim_id}", headers=mine)
    assert (
        "已提交" in page.text
        and "1234.50" in page.text
        and page.text.count('data-testid="document"') == 2
    )
    async with runtime.sessions() as s:
        await claims.start_review(s, runtime.clock, REVIEWER, claim_id)
    async with runtime.sessions() as s:
        await claims.reject_claim(s, runtime.clock, REVIEWER, claim_id, code="R02", text="发票模糊")
    page = await web.get(f"/claims/{claim_id}", headers=mine)
    assert (
        "票据或清单不清晰：发票模糊" in page.text
        and "李**" in page.text
        and "李审核" not in page.text
    )
    form = await web.get(f"/claims/{claim_id}/resubmit", headers=mine)
    assert 'value="北京协和医院"' in form.text
    fixed = {k: v for k, v in claim_form(runtime).items() if k != "request_key"}
    done = await web.post(
        f"/claims/{claim_id}/resubmit",
        data=fixed,
        files=[("invoice", ("清晰发票.jpg", claim_files()[0][1][1], "image/jpeg"))],
        headers=mine,
    )
    assert done.status_code == 303
    page = await web.get(f"/claims/{claim_id}", headers=mine)
    assert "修改后重新提交" in page.text and page.text.count('data-testid="document"') == 3

    theirs = {"x-test-person": str(other)}
    for path in (f"/claims/{claim_id}", f"/claims/{claim_id}/resubmit"):
        assert (await web.get(path, headers=theirs)).status_code == 404
    assert "北京协和医院" not in (await web.get("/claims", headers=theirs)).text


async def test_bad_form_keeps_what_was_typed(web: httpx.AsyncClient, runtime: Runtime) -> None:
    me, _, _ = await two_people(runtime)
    bad = {**claim_form(runtime), "medfee_sumamt": "abc", "diagnosis": "偏头痛"}
    page = await web.post(
        "/claims", data=bad, files=claim_files(), headers={"x-test-person": str(me)}
    )
    assert page.status_code == 422 and "应为金额" in page.text
    assert 'data-testid="error"' in page.text and 'value="偏头痛"' in page.text
    assert "Traceback" not in page.text


async def test_lookups_and_this_was_not_me(web: httpx.AsyncClient, runtime: Runtime) -> None:
    me, other, entry_id = await two_people(runtime)
    async with runtime.sessions() as s:
        record = await audit_repository.record(
            s,
            actor_type="staff",
            actor_id=3,
            actor_name="张建华",
            role="clerk",
            office="徐汇区医保中心",
            action="person.lookup",
            subject_person_id=me,
            reason="counter_visit",
            detail={},
            now=runtime.clock.now(),
        )
        await s.commit()
    stepped = {"x-test-person": f"{me};stepped"}
    not_stepped = await web.get("/me/lookups", headers={"x-test-person": str(me)})
    assert not_stepped.status_code == 303 and not_stepped.headers["location"].startswith("/verify")
    page = await web.get("/me/lookups", headers=stepped)
    assert "徐汇区医保中心" in page.text and "张**" in page.text and "窗口办理" in page.text
    assert "张建华" not in page.text
    theirs = {"x-test-person": f"{other};stepped"}
    assert 'data-testid="lookup"' not in (await web.get("/me/lookups", headers=theirs)).text
    assert (await web.get(f"/disputes/new?entry_id={entry_id}", headers=theirs)).status_code == 404

    form = await web.get(f"/disputes/new?entry_id={entry_id}", headers=stepped)
    assert "某某大药房" in form.text and "-20.00" in form.text
    sent = await web.post(
        "/disputes/entry", data={"entry_id": str(entry_id), "freeze": "1"}, headers=stepped
    )
    assert sent.status_code == 303
    sent = await web.post(
        "/disputes/lookup", data={"audit_record_id": str(record.id)}, headers=stepped
    )
    assert sent.status_code == 303
    listed = await web.get("/disputes", headers=stepped)
    assert listed.text.count('data-testid="dispute"') == 2 and "账户已冻结" in listed.text
    refused = await web.post(
        "/disputes/lookup", data={"audit_record_id": str(record.id)}, headers=theirs
    )
    assert refused.status_code == 404


async def test_page_posts_need_the_csrf_token(web: httpx.AsyncClient, runtime: Runtime) -> None:
    me, _, _ = await two_people(runtime)
    sent = await web.post(
        "/claims", data=claim_form(runtime), files=claim_files(), headers={"x-test-person": str(me)}
    )
    claim_id = int(sent.headers["location"].rsplit("/", 1)[1])
    forged = await web.post(
        f"/claims/{claim_id}/withdraw",
        headers={"x-test-person": str(me), "x-csrf-token": "forged-token-from-elsewhere"},
    )
    assert forged.status_code == 403 and "刷新页面" in forged.text
    page = await web.get(f"/claims/{claim_id}", headers={"x-test-person": str(me)})
    assert "已提交" in page.text
