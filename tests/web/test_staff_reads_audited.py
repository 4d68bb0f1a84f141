"""Every staff page that shows one person's data leaves an audit record naming that person,
which the person then sees on 查询记录 (/me/lookups): claims, their medical documents,
disputes, 家庭共济 cases, applications and documents, the person desk and the printed statement.

The staff GET routes come from a walk of every router: a new one that takes an id fails here
until it is listed (and audited) or named as a list that shows no one person's data.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from tests.support import family as family_support
from tests.support.claims import claim_files, claim_form, two_people
from tests.support.principals import install_test_principals, staff_header, with_csrf
from tests.support.routes import app_routes, is_staff, methods
from yibao.audit import service as audit
from yibao.audit.domain import READ_ACTIONS
from yibao.audit.tables import AuditRecord
from yibao.family import repository as family_repository
from yibao.runtime import Runtime

STAFF = staff_header(7, "张建华", "clerk,reviewer,admin", "徐汇区医保中心")

# path template → (the query it needs, whose data it shows: "owner", "parent").
READS: dict[str, tuple[dict[str, str], set[str]]] = {
    "/staff/claims/{claim_id}": ({}, {"owner"}),
    "/staff/claims/{claim_id}/documents/{attachment_id}": ({}, {"owner"}),
    "/staff/disputes/{dispute_id}": ({}, {"owner"}),
    "/staff/family/cases/{authorisation_id}": ({}, {"owner", "parent"}),
    "/staff/family/documents/{document_id}": ({}, {"parent"}),
    "/staff/family/applications/{application_id}": ({}, {"owner", "parent"}),
    "/staff/persons/{person_id}": ({"reason": "counter_visit"}, {"owner"}),
    "/staff/persons/{person_id}/statement.pdf": ({"reason": "counter_visit"}, {"owner"}),
    "/staff/persons/{person_id}/filings": ({"reason": "counter_visit"}, {"owner"}),
}

# Staff GET pages that show no one person's data: forms, queues, the trail itself.
NOT_ONE_PERSON = {
    "/staff",
    "/staff/login",
    "/staff/persons",
    "/staff/claims",
    "/staff/disputes",
    "/staff/adjustments",
    "/staff/audit",
    "/staff/family",
    "/staff/family/counter",
    "/staff/family/freezes",
    # A province's crediting run: counts and sums; its refused lines show masked ID numbers only,
    # and their download is on the trail as the staff member's action (crediting.report).
    "/staff/crediting",
    "/staff/crediting/{run_id}",
    "/staff/crediting/{run_id}/report.csv",
    "/staff/year-end/{run_id}",  # a year end: counts and sums per region, no person
    "/staff/kiosks",  # devices, not people
    "/staff/hotline",  # the queue: call numbers and whether each caller is identified, no names
    "/staff/partners",
    "/staff/reconciliations",  # each institution's 对账: counts and sums
    "/staff/auditrules",  # the rule book: items and limits, no person
}

# Pages whose read is audited by the step that opens them, not by the GET: only the agent who
# took the call sees it, and taking an identified call (or identifying it) is the audited read
# (tests/web/test_hotline_agent.py, tests/browser/test_hotline_agent_journey.py).
AUDITED_WHEN_OPENED = {"/staff/hotline/{call_id}"}

# Pages listing many people's settlements by psn_no (no names, no ID numbers): the read is one
# action on the trail, reconciliation.view (tests/web/test_staff_reconciliations.py).
AUDITED_AS_AN_ACTION = {"/staff/reconciliations/{reconciliation_id}"}


@pytest.fixture
async def app_and_client(runtime: Runtime) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    from yibao.web.app import create_app

    app = create_app(runtime=runtime)
    install_test_principals(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield app, with_csrf(c)


async def _records(runtime: Runtime) -> int:
    async with runtime.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(AuditRecord))).scalar_one())


async def _new_reads(runtime: Runtime, after: int) -> list[AuditRecord]:
    async with runtime.sessions() as s:
        stmt = select(AuditRecord).order_by(AuditRecord.seq).offset(after)
        return list((await s.execute(stmt)).scalars())


async def test_every_staff_read_of_a_persons_data_is_on_their_lookups(
    app_and_client: tuple[FastAPI, httpx.AsyncClient], runtime: Runtime
) -> None:
    app, client = app_and_client
    owner, _, entry_id = await two_people(runtime)
    mine = {"x-test-person": f"{owner};stepped"}
    claim = await client.post(
        "/api/v1/claims", data=claim_form(runtime), files=claim_files(), headers=mine
    )
    claim_id = claim.json()["id"]
    attachment_id = (await client.get(f"/api/v1/claims/{claim_id}", headers=mine)).json()[
        "attachments"
    ][0]["id"]
    dispute = await client.post(
        "/api/v1/disputes", json={"entry_id": entry_id, "statement": "不是我买的"}, headers=mine
    )
    assert dispute.status_code == 201, dispute.text
    parent = await family_support.member(runtime, "王建国")
    aid = await family_support.open_aid(
        runtime, family_support.Member(owner, "王芳", "", "", None), parent
    )
    async with runtime.sessions() as s:
        application_id = (await family_repository.authorisation(s, aid)).application_id
        document_id = (await family_repository.documents_of(s, aid))[0].id
    ids = {
        "claim_id": claim_id,
        "attachment_id": attachment_id,
        "dispute_id": dispute.json()["id"],
        "authorisation_id": aid,
        "document_id": document_id,
        "application_id": application_id,
        "person_id": owner,
    }
    persons = {"owner": owner, "parent": parent.person_id}

    staff_gets = {
        route.path for route in app_routes(app) if is_staff(route) and "GET" in methods(route)
    }
    unlisted = staff_gets - set(READS) - NOT_ONE_PERSON - AUDITED_WHEN_OPENED - AUDITED_AS_AN_ACTION
    assert not unlisted, f"audit these staff reads and list them here: {sorted(unlisted)}"
    assert set(READS) <= staff_gets

    for template, (query, whose) in READS.items():
        before = await _records(runtime)
        async with runtime.sessions() as s:
            seen_before = {
                who: len(await audit.lookups_for_person(s, persons[who])) for who in whose
            }
        shown = await client.get(template.format(**ids), params=query, headers=STAFF)
        assert shown.status_code == 200, (template, shown.status_code, shown.text[:300])
        reads = [r for r in await _new_reads(runtime, before) if r.action in READ_ACTIONS]
        assert {r.subject_person_id for r in reads} == {persons[w] for w in whose}, template
        assert all(r.actor_type == "staff" and r.actor_id == "7" for r in reads), template
        async with runtime.sessions() as s:
            for who in whose:
                lines = await audit.lookups_for_person(s, persons[who])
                assert len(lines) > seen_before[who], (template, who)
