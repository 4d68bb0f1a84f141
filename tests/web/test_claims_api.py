"""The claims API through the app: submit with documents, progress, 查询记录, disputes, IDOR."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.claims import claim_files, claim_form, two_people
from tests.support.documents import jpeg_with_exif, pdf
from tests.support.principals import install_test_principals
from yibao.audit import repository as audit_repository
from yibao.claims.domain import StaffActor
from yibao.claims.service import claims
from yibao.runtime import Runtime

REVIEWER = StaffActor(7, "李审核", frozenset({"reviewer"}), "徐汇区医保中心")


@pytest.fixture
async def api(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    from yibao.web.app import create_app

    app = create_app(runtime=runtime)
    install_test_principals(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def test_claims_need_a_signed_in_person(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/v1/claims")
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"


async def test_submit_twice_progress_and_documents(
    api: httpx.AsyncClient, runtime: Runtime
) -> None:
    me, other, _ = await two_people(runtime)
    mine = {"x-test-person": str(me)}
    first = await api.post(
        "/api/v1/claims", data=claim_form(runtime), files=claim_files(), headers=mine
    )
    assert first.status_code == 201, first.text
    again = await api.post(
        "/api/v1/claims", data=claim_form(runtime), files=claim_files(), headers=mine
    )
    assert again.json()["id"] == first.json()["id"]
    body = first.json()
    assert (body["status_name"], body["medfee_sumamt"], body["fulamt_ownpay_amt"]) == (
        "已提交",
        "1234.50",
        "34.50",
    )
    claim_id = body["id"]
    async with runtime.sessions() as s:
        await claims.start_review(s, runtime.clock, REVIEWER, claim_id)
    progress = (await api.get(f"/api/v1/claims/{claim_id}", headers=mine)).json()
    assert [(st["event_name"], st["by"]) for st in progress["steps"]] == [
        ("提交申请", "本人"),
        ("开始审核", "李**"),
    ]
    assert [a["kind_name"] for a in progress["attachments"]] == ["门诊/住院发票", "诊断证明"]
    listed = (await api.get("/api/v1/claims", headers=mine)).json()
    assert [c["id"] for c in listed] == [claim_id]

    doc_id = progress["attachments"][0]["id"]
    document = await api.get(f"/api/v1/claims/{claim_id}/attachments/{doc_id}", headers=mine)
    assert document.status_code == 200 and document.content.startswith(b"\xff\xd8\xff")
    assert document.headers["x-content-type-options"] == "nosniff"
    assert b"SecretPhoneMaker" not in document.content

    theirs = {"x-test-person": str(other)}
    for path in (
        f"/api/v1/claims/{claim_id}",
        f"/api/v1/claims/{claim_id}/attachments/{doc_id}",
    ):
        assert (await api.get(path, headers=theirs)).status_code == 404
    assert (
        await api.post(f"/api/v1/claims/{claim_id}/withdraw", headers=theirs)
    ).status_code == 404
    assert (await api.get("/api/v1/claims", headers=theirs)).json() == []
    # Review has started: the owner can no longer withdraw.
    late = await api.post(f"/api/v1/claims/{claim_id}/withdraw", headers=mine)
    assert late.status_code == 409 and "审核中" in late.json()["error"]["message"]


async def test_bad_input_is_a_clear_message(api: httpx.AsyncClient, runtime: Runtime) -> None:
    me, _, _ = await two_people(runtime)
    mine = {"x-test-person": str(me)}
    gif = [("invoice", ("a.gif", b"GIF89a" + b"\x00" * 50, "image/jpeg"))]
    response = await api.post("/api/v1/claims", data=claim_form(runtime), files=gif, headers=mine)
    assert response.status_code == 422 and "JPG、PNG" in response.json()["error"]["message"]
    runtime.settings.upload_max_bytes = 2_000
    big = [("invoice", ("a.jpg", jpeg_with_exif(400, 400), "image/jpeg"))]
    response = await api.post(
        "/api/v1/claims", data=claim_form(runtime, "k-big-000001"), files=big, headers=mine
    )
    assert response.status_code == 422 and "不能超过" in response.json()["error"]["message"]
    bad = {**claim_form(runtime, "k-bad-000001"), "medfee_sumamt": "12.345"}
    response = await api.post("/api/v1/claims", data=bad, files=claim_files(), headers=mine)
    assert response.status_code == 422 and "最多两位小数" in response.json()["error"]["message"]
    no_invoice = [("diagnosis_doc", ("诊断.pdf", pdf(), "application/pdf"))]
    response = await api.post(
        "/api/v1/claims", data=claim_form(runtime, "k-noinv-00001"), files=no_invoice, headers=mine
    )
    assert response.status_code == 422 and "发票" in response.json()["error"]["message"]
    assert (await api.get("/api/v1/claims", headers=mine)).json() == []


async def test_lookups_and_disputes(api: httpx.AsyncClient, runtime: Runtime) -> None:
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
    mine = {"x-test-person": f"{me};stepped"}
    theirs = {"x-test-person": f"{other};stepped"}
    assert (
        await api.get("/api/v1/me/lookups", headers={"x-test-person": str(me)})
    ).status_code == 403
    lookups = (await api.get("/api/v1/me/lookups", headers=mine)).json()
    assert [(x["who"], x["office"], x["reason"]) for x in lookups] == [
        ("张**", "徐汇区医保中心", "窗口办理")
    ]
    assert (await api.get("/api/v1/me/lookups", headers=theirs)).json() == []

    for body in ({"entry_id": entry_id}, {"audit_record_id": record.id}):
        refused = await api.post("/api/v1/disputes", json=body, headers=theirs)
        assert refused.status_code == 404
    disputed = await api.post(
        "/api/v1/disputes",
        json={"entry_id": entry_id, "statement": "这笔不是我", "freeze": True},
        headers=mine,
    )
    assert disputed.status_code == 201 and disputed.json()["froze_account"] is True
    lookup_case = await api.post(
        "/api/v1/disputes", json={"audit_record_id": record.id}, headers=mine
    )
    assert lookup_case.json()["kind"] == "lookup"
    assert len((await api.get("/api/v1/disputes", headers=mine)).json()) == 2
    assert (await api.get("/api/v1/disputes", headers=theirs)).json() == []
    both = await api.post(
        "/api/v1/disputes", json={"entry_id": entry_id, "audit_record_id": record.id}, headers=mine
    )
    assert both.status_code == 422
