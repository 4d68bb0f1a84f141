"""The 家庭共济 JSON API over HTTP with real bearer tokens."""

from __future__ import annotations

import csv
import io

import httpx

from tests.support.family import (
    REVIEWER,
    bearer,
    buy,
    employee,
    member,
    pharmacy,
    photo,
    world,
)
from yibao.family import service as family
from yibao.runtime import Runtime


async def test_eligibility_apply_review_and_statements_over_the_api(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await world(runtime)
    me = await employee(runtime, fen=20_000)
    parent = await member(runtime, "王建国")
    cousin = await member(runtime, "王表哥", insutype="310")
    shop = await pharmacy(runtime)
    auth = await bearer(client, runtime, me)

    unauthenticated = await client.post("/api/v1/family/eligibility", json={"relatives": []})
    assert unauthenticated.status_code in (401, 422)

    refused = await client.post(
        "/api/v1/family/eligibility",
        json={
            "relatives": [{"name": cousin.name, "id_number": cousin.id_number, "relation": "other"}]
        },
        headers=auth,
    )
    assert refused.status_code == 200
    body = refused.json()
    assert body["eligible"] is False
    assert body["refusals"][0]["code"] == "relation_not_allowed"
    assert "配偶、父母、子女" in body["refusals"][0]["remedy"]

    bad_id = await client.post(
        "/api/v1/family/eligibility",
        json={"relatives": [{"name": "某人", "id_number": "123", "relation": "parent"}]},
        headers=auth,
    )
    assert bad_id.status_code == 422 and "身份证号码" in bad_id.json()["error"]["message"]

    relatives = {
        "relatives": [{"name": parent.name, "id_number": parent.id_number, "relation": "parent"}]
    }
    created = await client.post("/api/v1/family/applications", json=relatives, headers=auth)
    assert created.status_code == 201, created.text
    application_id = created.json()["application_id"]
    aid = created.json()["authorisations"][0]["authorisation_id"]

    early = await client.post(f"/api/v1/family/applications/{application_id}/submit", headers=auth)
    assert early.status_code == 422 and early.json()["error"]["code"] == "documents_missing"
    not_image = await client.post(
        f"/api/v1/family/authorisations/{aid}/documents",
        data={"kind": "id_photo"},
        files={"file": ("id.png", b"<script>alert(1)</script>", "image/png")},
        headers=auth,
    )
    assert not_image.status_code == 422 and not_image.json()["error"]["code"] == "upload_refused"
    for kind in ("id_photo", "relation_proof"):
        up = await client.post(
            f"/api/v1/family/authorisations/{aid}/documents",
            data={"kind": kind},
            files={"file": ("p.png", photo(), "image/png")},
            headers=auth,
        )
        assert up.status_code == 201, up.text
    submitted = await client.post(
        f"/api/v1/family/applications/{application_id}/submit", headers=auth
    )
    assert submitted.json()["authorisations"][0]["status"] == "under_review"

    async with runtime.sessions() as s:
        await family.review(s, runtime.cipher, runtime.clock, aid, REVIEWER, approve=True)

    quota = await client.put(
        f"/api/v1/family/authorisations/{aid}/quota", json={"quota": "50.00"}, headers=auth
    )
    assert quota.json()["quota"] == "50.00"
    bad_quota = await client.put(
        f"/api/v1/family/authorisations/{aid}/quota", json={"quota": "1.234"}, headers=auth
    )
    assert bad_quota.status_code == 422

    result = await buy(runtime, shop, parent, 8_000, "P310104000012026112500000001")
    assert result.payment.acct_mulaid_pay_fen == 5_000

    overview = (await client.get("/api/v1/family", headers=auth)).json()
    line = overview["beneficiaries"][0]
    assert (line["status"], line["quota"], line["used_this_year"], line["remaining"]) == (
        "active",
        "50.00",
        "50.00",
        "0.00",
    )
    assert [h["action"] for h in line["history"]] == [
        "applied",
        "submitted",
        "approved",
        "quota_changed",
    ]

    paid = (await client.get("/api/v1/family/payments", headers=auth)).json()
    assert paid["total"] == "50.00"
    assert paid["payments"][0]["institution"] == "测试大药房"
    assert paid["payments"][0]["for_whom"] == "王建国"
    assert "med_list_name" not in str(paid) and "测试自费药" not in str(paid)
    exported = await client.get("/api/v1/family/payments?format=csv", headers=auth)
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["时间", "定点机构", "机构编码", "金额（元）"]
    assert rows[1][1:5] == ["测试大药房", "P31010400001", "50.00", "王建国"]
    empty = await client.get(
        "/api/v1/family/payments?since=2020-01-01&until=2020-12-31", headers=auth
    )
    assert empty.json()["payments"] == []

    parent_auth = await bearer(client, runtime, parent)
    seen = (await client.get("/api/v1/family/received", headers=parent_auth)).json()
    assert [(p["paid_by"], p["amount"]) for p in seen["payments"]] == [("王芳", "50.00")]
    supporters = (await client.get("/api/v1/family", headers=parent_auth)).json()["supporters"]
    assert [(x["name"], x["remaining"]) for x in supporters] == [("王芳", "0.00")]
    not_theirs = await client.get("/api/v1/family/payments", headers=parent_auth)
    assert not_theirs.json()["payments"] == []

    revoked = await client.post(f"/api/v1/family/authorisations/{aid}/revoke", headers=auth)
    assert revoked.json()["status"] == "revoked"
    again = await client.post(f"/api/v1/family/authorisations/{aid}/pause", headers=auth)
    assert again.status_code == 409


async def test_another_person_cannot_touch_an_authorisation(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await world(runtime)
    me = await employee(runtime)
    other = await employee(runtime, name="李四")
    parent = await member(runtime, "王建国")
    from tests.support.family import open_aid

    aid = await open_aid(runtime, me, parent)
    auth = await bearer(client, runtime, other)
    for path in ("revoke", "pause"):
        r = await client.post(f"/api/v1/family/authorisations/{aid}/{path}", headers=auth)
        # Answered as a missing id: another person's authorisation is not told apart from none.
        assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_authorisation"
    r = await client.put(
        f"/api/v1/family/authorisations/{aid}/quota", json={"quota": "1.00"}, headers=auth
    )
    assert r.status_code == 404


async def test_bad_input_is_refused_in_words_never_a_500(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await world(runtime)
    me = await employee(runtime)
    auth = await bearer(client, runtime, me)
    bodies: list[object] = [
        {},
        {"relatives": []},
        {"relatives": [{}]},
        {"relatives": [{"name": "甲", "id_number": "1" * 18, "relation": "parent"}]},
        {"relatives": [{"name": "甲", "id_number": "X" * 40, "relation": "parent"}]},
        {"relatives": [{"name": "", "id_number": "", "relation": ""}] * 11},
        {"relatives": "parent"},
        [1, 2, 3],
        None,
    ]
    for body in bodies:
        for path in ("/api/v1/family/eligibility", "/api/v1/family/applications"):
            r = await client.post(path, json=body, headers=auth)
            assert 400 <= r.status_code < 500, (path, body, r.text)
            assert r.json()["error"]["message"], r.text
    for path, kw in (
        ("/api/v1/family/authorisations/999/revoke", {}),
        ("/api/v1/family/authorisations/abc/pause", {}),
        ("/api/v1/family/applications/999/submit", {}),
        ("/api/v1/family/authorisations/999/consent", {"json": {"agree": "maybe"}}),
        ("/api/v1/family/authorisations/999/documents", {"data": {"kind": "selfie"}}),
    ):
        r = await client.post(path, headers=auth, **kw)  # type: ignore[arg-type]
        assert 400 <= r.status_code < 500, (path, r.text)
    for query in ("since=2026-13-01", "since=2026-05-01&until=2026-04-01", "relative=x"):
        r = await client.get(f"/api/v1/family/payments?{query}", headers=auth)
        assert 400 <= r.status_code < 500 and r.json()["error"]["message"], (query, r.text)
    # Days at the ends of the calendar overflowed once turned into Beijing midnights (a 500).
    for path in ("/api/v1/family/payments", "/api/v1/family/received"):
        for query in ("since=0001-01-01", "until=9999-12-31"):
            r = await client.get(f"{path}?{query}", headers=auth)
            assert r.status_code == 422 and "日期应在" in r.json()["error"]["message"], (
                path,
                query,
            )
