"""家庭共济 pages over HTTP: the phone journey, the reviewer's queue, counter entry, freezes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.family import (
    buy,
    csrf_of,
    employee,
    member,
    page_sign_in,
    pharmacy,
    photo,
    staff_member,
    staff_sign_in,
    world,
)
from yibao.runtime import Runtime
from yibao.web.app import create_app


@pytest.fixture
async def staff_client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def test_phone_journey_then_staff_review(
    client: httpx.AsyncClient, staff_client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await world(runtime)
    me = await employee(runtime, fen=20_000)
    parent = await member(runtime, "王建国")
    cousin = await member(runtime, "王表哥", insutype="310")
    shop = await pharmacy(runtime)

    anonymous = await client.get("/family")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    await page_sign_in(client, runtime, me)

    page = await client.get("/family/apply")
    assert "资格查询" in page.text
    refused = await client.post(
        "/family/apply",
        data={
            "name": cousin.name,
            "id_number": cousin.id_number,
            "relation": "other",
            "step": "check",
            "csrf_token": csrf_of(client),
        },
    )
    assert refused.status_code == 422
    assert "堂表兄弟姐妹" in refused.text and "怎么办" in refused.text
    no_csrf = await client.post(
        "/family/apply",
        data={"name": parent.name, "id_number": parent.id_number, "relation": "parent"},
    )
    assert no_csrf.status_code == 403

    ok = await client.post(
        "/family/apply",
        data={
            "name": parent.name,
            "id_number": parent.id_number,
            "relation": "parent",
            "step": "check",
            "csrf_token": csrf_of(client),
        },
    )
    assert ok.status_code == 200 and 'data-testid="eligible"' in ok.text
    started = await client.post(
        "/family/apply",
        data={
            "name": parent.name,
            "id_number": parent.id_number,
            "relation": "parent",
            "step": "apply",
            "csrf_token": csrf_of(client),
        },
    )
    assert started.status_code == 303
    app_url = started.headers["location"]
    application_id = int(app_url.rsplit("/", 1)[1])
    form = (await client.get(app_url)).text
    aid = int(form.split('name="authorisation_id" value="')[1].split('"')[0])

    missing = await client.post(f"{app_url}/submit", data={"csrf_token": csrf_of(client)})
    assert missing.status_code == 422 and "请为王**上传：身份证或社保卡照片" in missing.text
    bad = await client.post(
        f"{app_url}/documents",
        data={"authorisation_id": str(aid), "kind": "id_photo", "csrf_token": csrf_of(client)},
        files={"file": ("x.png", b"not an image", "image/png")},
    )
    assert bad.status_code == 422 and "JPG" in bad.text
    for kind in ("id_photo", "relation_proof"):
        up = await client.post(
            f"{app_url}/documents",
            data={"authorisation_id": str(aid), "kind": kind, "csrf_token": csrf_of(client)},
            files={"file": ("p.jpg", photo(fmt="JPEG"), "image/jpeg")},
        )
        assert up.status_code == 303, up.text
    done = await client.post(f"{app_url}/submit", data={"csrf_token": csrf_of(client)})
    assert done.status_code == 303 and done.headers["location"] == "/family?notice=submitted"
    home = await client.get("/family?notice=submitted")
    assert "审核中" in home.text and "王建国" in home.text

    await staff_member(runtime, "reviewer1", ["reviewer"], "审核员甲")
    await staff_sign_in(staff_client, "reviewer1")
    queue = await staff_client.get("/staff/family")
    assert 'href="/staff/family"' in (await staff_client.get("/staff")).text
    assert "王建国" in queue.text and f"/staff/family/cases/{aid}" in queue.text
    case = await staff_client.get(f"/staff/family/cases/{aid}")
    assert case.text.count("/staff/family/documents/") == 2
    doc_id = case.text.split("/staff/family/documents/")[1].split('"')[0]
    image = await staff_client.get(f"/staff/family/documents/{doc_id}")
    assert image.headers["content-type"] == "image/jpeg" and image.content[:3] == b"\xff\xd8\xff"
    # The applicant may see their own documents; nobody else's session can.
    assert (await client.get(f"/family/documents/{doc_id}")).status_code == 200
    no_reason = await staff_client.post(
        f"/staff/family/cases/{aid}/review",
        data={"decision": "reject", "reason": "", "csrf_token": csrf_of(staff_client)},
    )
    assert no_reason.status_code == 422 and "请填写不通过的原因" in no_reason.text
    approved = await staff_client.post(
        f"/staff/family/cases/{aid}/review",
        data={"decision": "approve", "csrf_token": csrf_of(staff_client)},
    )
    assert approved.status_code == 303

    await buy(runtime, shop, parent, 3_000, "P310104000012026112500000001")
    statement = await client.get("/family/payments")
    assert statement.status_code == 200
    assert (
        "测试大药房" in statement.text
        and "30.00" in statement.text
        and "测试自费药" not in statement.text
    )
    exported = await client.get("/family/payments.csv")
    assert "测试大药房,P31010400001,30.00,王建国" in exported.text

    quota = await client.post(
        f"/family/{aid}/quota", data={"quota": "abc", "csrf_token": csrf_of(client)}
    )
    assert quota.status_code == 422 and "共济额度应为金额" in quota.text
    quota = await client.post(
        f"/family/{aid}/quota", data={"quota": "40.00", "csrf_token": csrf_of(client)}
    )
    assert quota.status_code == 303
    home = await client.get("/family")
    assert 'data-testid="remaining">10.00<' in home.text
    revoked = await client.post(f"/family/{aid}/revoke", data={"csrf_token": csrf_of(client)})
    assert (
        revoked.status_code == 303 and "已撤销" in (await client.get("/family?notice=revoked")).text
    )
    assert application_id > 0


async def test_counter_entry_and_freeze_need_two_staff(
    client: httpx.AsyncClient, staff_client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await world(runtime)
    me = await employee(runtime)
    parent = await member(runtime, "王建国")
    await staff_member(runtime, "clerk1", ["clerk"], "经办员乙")
    await staff_sign_in(staff_client, "clerk1")
    refused = await staff_client.post(
        "/staff/family/counter",
        data={
            "authoriser": me.id_number,
            "name": parent.name,
            "id_number": parent.id_number,
            "relation": "child",
            "csrf_token": csrf_of(staff_client),
        },
    )
    assert refused.status_code == 422 and "出生日期与所选关系" in refused.text
    entered = await staff_client.post(
        "/staff/family/counter",
        data={
            "authoriser": me.id_number,
            "name": parent.name,
            "id_number": parent.id_number,
            "relation": "parent",
            "csrf_token": csrf_of(staff_client),
        },
    )
    assert entered.status_code == 303
    url = entered.headers["location"]
    aid = int(
        (await staff_client.get(url)).text.split('name="authorisation_id" value="')[1].split('"')[0]
    )
    for kind in ("id_photo", "relation_proof"):
        r = await staff_client.post(
            f"{url}/documents",
            data={"authorisation_id": str(aid), "kind": kind, "csrf_token": csrf_of(staff_client)},
            files={"file": ("scan.png", photo(), "image/png")},
        )
        assert r.status_code == 303
    assert (
        await staff_client.post(f"{url}/submit", data={"csrf_token": csrf_of(staff_client)})
    ).status_code == 303
    # A clerk may not review, nor open the documents (applicant and reviewers only).
    from yibao.family import repository as family_repository

    async with runtime.sessions() as s:
        docs = await family_repository.documents_of(s, aid)
    assert len(docs) == 2
    assert (await staff_client.get(f"/staff/family/documents/{docs[0].id}")).status_code == 403
    review = await staff_client.post(
        f"/staff/family/cases/{aid}/review",
        data={"decision": "approve", "csrf_token": csrf_of(staff_client)},
    )
    assert review.status_code == 403

    frozen = await staff_client.post(
        "/staff/family/freezes",
        data={
            "person": me.id_number,
            "reason": "冒用他人医保卡购药",
            "csrf_token": csrf_of(staff_client),
        },
    )
    assert frozen.status_code == 303
    page = await staff_client.get("/staff/family/freezes?notice=frozen")
    assert "冒用他人医保卡购药" in page.text
    freeze_id = page.text.split("/staff/family/freezes/")[1].split("/")[0]
    asked = await staff_client.post(
        f"/staff/family/freezes/{freeze_id}/request",
        data={"reason": "已退回违规费用", "csrf_token": csrf_of(staff_client)},
    )
    assert asked.status_code == 303
    same = await staff_client.post(
        f"/staff/family/freezes/{freeze_id}/approve", data={"csrf_token": csrf_of(staff_client)}
    )
    assert same.status_code == 403 and "另一位工作人员" in same.text


async def test_second_staff_unfreezes_and_a_relation_correction_ends_aid(
    staff_client: httpx.AsyncClient, runtime: Runtime
) -> None:
    from tests.support.family import open_aid
    from yibao.family import service as family

    await world(runtime)
    me = await employee(runtime)
    parent = await member(runtime, "王建国")
    aid = await open_aid(runtime, me, parent)
    async with runtime.sessions() as s:
        freeze = await family.freeze_for_misuse(
            s, runtime.clock, family.Staff(1, "经办员乙"), me.person_id, "冒用他人医保卡购药"
        )
        await family.request_unfreeze(
            s, runtime.clock, family.Staff(1, "经办员乙"), freeze.id, "已整改"
        )
    await staff_member(runtime, "reviewer2", ["reviewer"], "复核员丙")
    await staff_sign_in(staff_client, "reviewer2")
    approved = await staff_client.post(
        f"/staff/family/freezes/{freeze.id}/approve", data={"csrf_token": csrf_of(staff_client)}
    )
    assert approved.status_code == 303
    page = await staff_client.get(approved.headers["location"])
    assert "已解冻" in page.text and "冒用他人医保卡购药" not in page.text

    corrected = await staff_client.post(
        f"/staff/family/cases/{aid}/relation",
        data={"relation": "other", "reason": "核实为表兄", "csrf_token": csrf_of(staff_client)},
    )
    assert corrected.status_code == 200
    assert "不再符合条件，共济已终止" in corrected.text
    assert 'data-testid="case-status">已终止<' in corrected.text
