"""Every id-bearing route a person can call, tried with another person's ids: all answer 404.

The table below must name every such route; a new one that is not listed fails this test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from tests.support.claims import claim_files, claim_form, two_people
from tests.support.principals import install_test_principals, with_csrf
from yibao.audit import repository as audit_repository
from yibao.runtime import Runtime

# (method, path template) → how the ids go in: path, query, form or JSON.
PERSON_ID_ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/claims/{claim_id}"): "path",
    ("POST", "/api/v1/claims/{claim_id}/withdraw"): "path",
    ("GET", "/api/v1/claims/{claim_id}/attachments/{attachment_id}"): "path",
    ("GET", "/claims/{claim_id}"): "path",
    ("POST", "/claims/{claim_id}/withdraw"): "path",
    ("GET", "/claims/{claim_id}/resubmit"): "path",
    ("POST", "/claims/{claim_id}/resubmit"): "path",
    ("GET", "/claims/{claim_id}/documents/{attachment_id}"): "path",
    ("GET", "/disputes/new"): "query:entry_id",
    ("POST", "/disputes/entry"): "form:entry_id",
    ("POST", "/disputes/lookup"): "form:audit_record_id",
    ("POST", "/api/v1/disputes"): "json",
}


@pytest.fixture
async def app_and_client(runtime: Runtime) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    from yibao.web.app import create_app

    app = create_app(runtime=runtime)
    install_test_principals(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield app, with_csrf(c)


def _person_routes_with_ids(app: FastAPI) -> set[tuple[str, str]]:
    found = set()
    for route in app.routes:
        if not isinstance(route, APIRoute) or route.path.startswith(("/staff", "/api/v1/auth")):
            continue
        if "{" in route.path or route.path in {
            "/disputes/new",
            "/disputes/entry",
            "/disputes/lookup",
            "/api/v1/disputes",
        }:
            for method in route.methods - {"HEAD"}:
                found.add((method, route.path))
    return found


async def test_another_persons_ids_find_nothing(
    app_and_client: tuple[FastAPI, httpx.AsyncClient], runtime: Runtime
) -> None:
    app, client = app_and_client
    owner, intruder, entry_id = await two_people(runtime)
    mine = {"x-test-person": f"{owner};stepped"}
    claim = (
        await client.post(
            "/api/v1/claims", data=claim_form(runtime), files=claim_files(), headers=mine
        )
    ).json()
    attachment_id = (await client.get(f"/api/v1/claims/{claim['id']}", headers=mine)).json()[
        "attachments"
    ][0]["id"]
    async with runtime.sessions() as s:
        record = await audit_repository.record(
            s,
            actor_type="staff",
            actor_id=1,
            actor_name="张三",
            role="clerk",
            office="窗口",
            action="person.lookup",
            subject_person_id=owner,
            reason="counter_visit",
            detail={},
            now=runtime.clock.now(),
        )
        await s.commit()
    ids = {
        "claim_id": claim["id"],
        "attachment_id": attachment_id,
        "entry_id": entry_id,
        "audit_record_id": record.id,
    }
    assert _person_routes_with_ids(app) <= set(PERSON_ID_ROUTES), "list every id-bearing route"

    theirs = {"x-test-person": f"{intruder};stepped"}
    for (method, template), where in PERSON_ID_ROUTES.items():
        kwargs: dict[str, object] = {"headers": theirs}
        path = template.format(**ids)
        if where.startswith("query:"):
            key = where.split(":")[1]
            path += f"?{key}={ids[key]}"
        elif where.startswith("form:"):
            key = where.split(":")[1]
            kwargs["data"] = {key: str(ids[key])}
        elif where == "json":
            for key in ("entry_id", "audit_record_id"):
                response = await client.post(path, json={key: ids[key]}, headers=theirs)
                assert response.status_code == 404, (path, key, response.text)
            continue
        elif method == "POST" and "resubmit" in path:
            kwargs["data"] = {k: v for k, v in claim_form(runtime).items() if k != "request_key"}
        response = await client.request(method, path, **kwargs)  # type: ignore[arg-type]
        assert response.status_code == 404, (method, path, response.status_code)
    # And the owner's claim is untouched by all of it.
    after = (await client.get(f"/api/v1/claims/{claim['id']}", headers=mine)).json()
    assert after["status"] == "submitted" and len(after["steps"]) == 1
