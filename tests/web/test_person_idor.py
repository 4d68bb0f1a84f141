"""Every id-bearing route a person can call, tried with another person's ids: each answers 404,
exactly as it answers an id that names nothing (no 403 or other word that tells them apart).

The routes come from a walk of every router (tests/support/routes.py), so a new route that takes
an id from its path, query, form or JSON body and is missing from the table fails this test.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import select

from tests.support import family as family_support
from tests.support import partners as partner_support
from tests.support.claims import claim_files, claim_form, two_people
from tests.support.identity import member as online_member
from tests.support.principals import install_test_principals, with_csrf
from tests.support.routes import app_routes, is_staff, methods
from yibao.audit import repository as audit_repository
from yibao.family import repository as family_repository
from yibao.filings import service as filings
from yibao.filings.domain import FilingKind
from yibao.identity.tables import Passkey
from yibao.kernel.clock import china_today
from yibao.notifications.tables import Notice
from yibao.partners.service import access as partner_access
from yibao.runtime import Runtime
from yibao.web.ids import MAX_ROW_ID

# (method, path template) → how the ids go in and what else the request needs.
#   "path"            ids in the path only
#   "query:<name>"    the id in the query
#   "form:<name>"     the id in a form field
#   "json"            the dispute API: entry_id or audit_record_id in the JSON body
#   "path+<extra>"    ids in the path and a valid body (see BODIES)
PERSON_ID_ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/claims/{claim_id}"): "path",
    ("POST", "/api/v1/claims/{claim_id}/withdraw"): "path",
    ("GET", "/api/v1/claims/{claim_id}/attachments/{attachment_id}"): "path",
    ("GET", "/claims/{claim_id}"): "path",
    ("POST", "/claims/{claim_id}/withdraw"): "path",
    ("GET", "/claims/{claim_id}/resubmit"): "path",
    ("POST", "/claims/{claim_id}/resubmit"): "path+claim",
    ("GET", "/claims/{claim_id}/documents/{attachment_id}"): "path",
    ("GET", "/disputes/new"): "query:entry_id",
    ("POST", "/disputes/entry"): "form:entry_id",
    ("POST", "/disputes/lookup"): "form:audit_record_id",
    ("POST", "/api/v1/disputes"): "json",
    ("GET", "/api/v1/consumption/{setl_id}"): "path",
    ("GET", "/account/consumption/{setl_id}"): "path",
    ("GET", "/account/consumption/{setl_id}/voucher"): "path",
    ("POST", "/api/v1/notices/{notice_id}/read"): "path",
    ("GET", "/messages/{notice_id}"): "path",
    ("DELETE", "/api/v1/auth/passkeys/{passkey_id}"): "path",
    ("POST", "/passkeys/{passkey_id}/delete"): "path",
    ("POST", "/api/v1/family/authorisations/{authorisation_id}/documents"): "path+upload",
    ("POST", "/api/v1/family/applications/{application_id}/submit"): "path",
    ("PUT", "/api/v1/family/authorisations/{authorisation_id}/quota"): "path+quota_json",
    ("POST", "/api/v1/family/authorisations/{authorisation_id}/pause"): "path",
    ("POST", "/api/v1/family/authorisations/{authorisation_id}/resume"): "path",
    ("POST", "/api/v1/family/authorisations/{authorisation_id}/revoke"): "path",
    ("POST", "/api/v1/family/authorisations/{authorisation_id}/consent"): "path+consent_json",
    ("POST", "/api/v1/family/authorisations/{authorisation_id}/contribution"): "path",
    ("GET", "/family/applications/{application_id}"): "path",
    ("POST", "/family/applications/{application_id}/documents"): "path+page_upload",
    ("POST", "/family/applications/{application_id}/submit"): "path",
    ("GET", "/family/documents/{document_id}"): "path",
    ("GET", "/family/consent/{authorisation_id}"): "path",
    ("POST", "/family/consent/{authorisation_id}"): "path+consent_form",
    ("POST", "/family/{authorisation_id}/quota"): "path+quota_form",
    ("POST", "/family/{authorisation_id}/pause"): "path",
    ("POST", "/family/{authorisation_id}/resume"): "path",
    ("POST", "/family/{authorisation_id}/revoke"): "path",
    ("POST", "/family/{authorisation_id}/contribution"): "path",
    ("POST", "/me/apps/{grant_id}/revoke"): "path",
    ("GET", "/filings/{filing_id}"): "path",
    ("POST", "/filings/{filing_id}/cancel"): "path",
    ("GET", "/filings/{filing_id}/change"): "path",
    ("POST", "/filings/{filing_id}/change"): "path+filing_form",
}

# Ids that only narrow the caller's own data (a keyset cursor, a filter on the relatives the
# caller paid for): another person's value finds nothing of theirs by construction.
OWN_DATA_FILTERS = {
    ("GET", "/api/v1/notices"),
    ("GET", "/messages"),
    ("GET", "/api/v1/family/payments"),
    ("GET", "/family/payments"),
    ("GET", "/family/payments.csv"),
    # The consent page's `client_id` names a partner app, not anyone's data.
    ("GET", "/oauth/authorize"),
    ("POST", "/oauth/authorize"),
    # 地方专区: the path names a region of the directory, public, not anyone's data.
    ("GET", "/region/{admdvs}"),
}

# A partner's token, not the person's session, names whose data /open/v1 reads: its IDOR test
# (partner tokens, another person's ids) is in tests/web/test_open_api.py.
PARTNER_PREFIX = "/open/"


@pytest.fixture
async def app_and_client(runtime: Runtime) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    from yibao.web.app import create_app

    app = create_app(runtime=runtime)
    install_test_principals(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield app, with_csrf(c)


def _body_ids(route: APIRoute) -> set[str]:
    names = set()
    for param in route.dependant.body_params:
        annotation = param.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= set(annotation.model_fields)
        else:
            names.add(param.name)
    return {n for n in names if n.endswith("_id")}


def _takes_an_id(route: APIRoute) -> bool:
    query = {p.name for p in route.dependant.query_params}
    return bool(
        route.dependant.path_params
        or {n for n in query if n.endswith("_id") or n in {"before", "relative"}}
        or _body_ids(route)
    )


def person_routes_with_ids(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for route in app_routes(app)
        # The kiosk's routes take the person from its own session, not the person principal:
        # tests/web/test_kiosk.py checks their ids; the open API's, tests/web/test_open_api.py.
        # /peer is another deployment's signed message (tests/integration/test_crossregion.py).
        if not is_staff(route)
        and not route.path.startswith(("/fsi", "/kiosk", "/peer", PARTNER_PREFIX))
        and _takes_an_id(route)
        for method in methods(route)
    }


async def _owned_ids(
    runtime: Runtime, client: httpx.AsyncClient
) -> tuple[int, int, dict[str, Any]]:
    """The owner's claim, attachment, ledger entry, 查询记录 line, notice, passkey and 家庭共济
    rows; returns (owner, intruder, ids)."""
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
            s, actor_type="staff", actor_id=1, actor_name="张三", role="clerk", office="窗口",
            action="person.lookup", subject_person_id=owner, reason="counter_visit", detail={},
            now=runtime.clock.now(),
        )  # fmt: skip
        notice = Notice(
            person_id=owner, subject="提醒", body="您的消息", created_at=record.occurred_at
        )
        s.add(notice)
        await s.commit()
        record_id, notice_id = record.id, notice.id
    # A passkey on someone's online account (the test principal's account id is its person id).
    async with runtime.sessions() as s:
        keyholder = await online_member(runtime, s, name="钱多")
        key = Passkey(
            account_id=keyholder.account_id, credential_id="cred-of-someone-else",
            public_key=b"k", sign_count=0, name="手机", created_at=runtime.clock.now(),
        )  # fmt: skip
        s.add(key)
        await s.commit()
        passkey_id = key.id
    assert keyholder.account_id != intruder
    # A partner app the owner granted (已授权的应用).
    partner = await partner_support.app(runtime)
    await partner_support.code_for(runtime, partner, owner)
    async with runtime.sessions() as s:
        grant_id = (await partner_access.grants_for_person(s, runtime.clock, owner))[0].grant_id
    # 家庭共济: the owner (an employee) authorises a parent; a second application stays open.
    me = family_support.Member(owner, "王芳", "", "", None)
    parent = await family_support.member(runtime, "王建国")
    aid = await family_support.open_aid(runtime, me, parent)
    async with runtime.sessions() as s:
        row = await family_repository.authorisation(s, aid)
        document_id = (await family_repository.documents_of(s, aid))[0].id
        application_id = row.application_id
    # 异地就医备案: the owner's, filed on the phone.
    async with runtime.sessions() as s:
        filing = await filings.file(
            s,
            runtime.clock,
            filings.person_actor(owner, "王芳"),
            owner,
            filings.Application(
                kind=FilingKind.OTHER_TEMPORARY,
                treatment_admdvs="460200",
                treatment_name="海南省三亚市",
                begins=china_today(runtime.clock),
            ),
        )
    return (
        owner,
        intruder,
        {
            "filing_id": filing.id,
            "claim_id": claim["id"],
            "attachment_id": attachment_id,
            "entry_id": entry_id,
            "audit_record_id": record_id,
            "notice_id": notice_id,
            "passkey_id": passkey_id,
            "authorisation_id": aid,
            "application_id": application_id,
            "document_id": document_id,
            "grant_id": grant_id,
            "setl_id": "setl:X:own",  # the owner's settlement debit (two_people)
        },
    )


def _request(
    runtime: Runtime, method: str, template: str, where: str, ids: dict[str, Any]
) -> list[dict[str, Any]]:
    """The request(s) that put `ids` where the route takes them."""
    path = template.format(**ids)
    if where.startswith("query:"):
        key = where.split(":")[1]
        return [{"url": path, "params": {key: str(ids[key])}}]
    if where.startswith("form:"):
        key = where.split(":")[1]
        return [{"url": path, "data": {key: str(ids[key])}}]
    if where == "json":
        return [{"url": path, "json": {k: ids[k]}} for k in ("entry_id", "audit_record_id")]
    extra = where.partition("+")[2]
    photo = [("file", ("id.png", family_support.photo(), "image/png"))]
    bodies: dict[str, dict[str, Any]] = {
        "": {},
        "claim": {"data": {k: v for k, v in claim_form(runtime).items() if k != "request_key"}},
        "upload": {"data": {"kind": "id_photo"}, "files": photo},
        "page_upload": {
            "data": {"kind": "id_photo", "authorisation_id": str(ids["authorisation_id"])},
            "files": photo,
        },
        "quota_json": {"json": {"quota": "1.00"}},
        "quota_form": {"data": {"quota": "1.00"}},
        "consent_json": {"json": {"agree": True}},
        "consent_form": {"data": {"answer": "agree"}},
        "filing_form": {
            "data": {
                "kind": "other_temporary",
                "treatment_name": "海南省三亚市",
                "treatment_admdvs": "460200",
                "begins": runtime.clock.now().date().isoformat(),
            }
        },
    }
    return [{"url": path, **bodies[extra]}]


def _missing(ids: dict[str, Any]) -> dict[str, Any]:
    return {k: ("no-such-settlement" if k == "setl_id" else MAX_ROW_ID) for k in ids}


async def test_another_persons_ids_find_nothing_and_answer_as_a_missing_id(
    app_and_client: tuple[FastAPI, httpx.AsyncClient], runtime: Runtime
) -> None:
    app, client = app_and_client
    owner, intruder, ids = await _owned_ids(runtime, client)
    walked = person_routes_with_ids(app)
    unlisted = walked - set(PERSON_ID_ROUTES) - OWN_DATA_FILTERS
    assert not unlisted, f"list every id-bearing person route here: {sorted(unlisted)}"
    assert not set(PERSON_ID_ROUTES) - walked, "a listed route is no longer served"

    theirs = {"x-test-person": f"{intruder};stepped"}
    for (method, template), where in PERSON_ID_ROUTES.items():
        tried = _request(runtime, method, template, where, ids)
        nothing = _request(runtime, method, template, where, _missing(ids))
        for got, missing in zip(tried, nothing, strict=True):
            answer = await client.request(method, headers=theirs, **got)
            baseline = await client.request(method, headers=theirs, **missing)
            what = (method, template, where)
            assert answer.status_code == 404, (*what, answer.status_code, answer.text[:200])
            assert baseline.status_code == 404, (*what, "missing", baseline.status_code)
            # The same words, once what was asked for is taken out (an answer may echo it).
            assert _words(answer.text, got["url"], ids) == _words(
                baseline.text, missing["url"], _missing(ids)
            ), what
    # And the owner's claim and authorisation are untouched by all of it.
    mine = {"x-test-person": f"{owner};stepped"}
    after = (await client.get(f"/api/v1/claims/{ids['claim_id']}", headers=mine)).json()
    assert after["status"] == "submitted" and len(after["steps"]) == 1
    async with runtime.sessions() as s:
        row = await family_repository.authorisation(s, ids["authorisation_id"])
        assert row.status == "active"
        assert len(await family_repository.documents_of(s, ids["authorisation_id"])) == 2
        assert (await s.execute(select(Passkey.id))).scalars().all() == [ids["passkey_id"]]
        mine_filed = await filings.filings_of(s, owner)
        assert [f.state.value for f in mine_filed] == ["active"]


def _words(html: str, url: str, ids: dict[str, Any]) -> str:
    """A page's text with what was asked for taken out (a page echoes its own address, and may
    echo a value that was typed): what is left must not tell another person's id from none."""
    html = re.sub(r'href="[^"]*"', 'href=""', html)  # links back to the page asked for
    for asked in (url, quote(url), quote(url, safe="")):
        html = html.replace(asked, "<asked>")
    for value in ids.values():
        if len(str(value)) > 5:  # not a small id that a page's markup may hold by chance
            html = html.replace(str(value), "<id>")
    return html
