"""资格查询 is a look-up of someone else's record: it needs a step-up, is limited per person and
Beijing day, lands on the looked-up person's 查询记录, and tells the applicant only whether the
relative can be added — never which of the relative's own facts failed."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update

from tests.support.family import employee, member, world
from tests.support.world import new_id_number
from yibao.enrolment.tables import Enrolment
from yibao.family.domain import ELIGIBILITY_CHECKS_PER_DAY
from yibao.kernel.clock import CHINA_TZ, FixedClock
from yibao.runtime import Runtime


def _as(person_id: int, stepped: bool = True) -> dict[str, str]:
    return {"x-test-person": f"{person_id};stepped" if stepped else str(person_id)}


def _relatives(name: str, id_number: str, relation: str = "parent") -> dict[str, Any]:
    return {"relatives": [{"name": name, "id_number": id_number, "relation": relation}]}


async def _lookups(web: httpx.AsyncClient, person_id: int) -> list[dict[str, Any]]:
    answer = await web.get("/api/v1/me/lookups", headers=_as(person_id))
    assert answer.status_code == 200, answer.text
    lines: list[dict[str, Any]] = answer.json()
    return lines


async def test_checking_a_relative_needs_a_step_up(
    web: httpx.AsyncClient, runtime: Runtime
) -> None:
    await world(runtime)
    me = await employee(runtime)
    parent = await member(runtime, "王建国")
    body = _relatives(parent.name, parent.id_number)
    for path in ("/api/v1/family/eligibility", "/api/v1/family/applications"):
        refused = await web.post(path, json=body, headers=_as(me.person_id, stepped=False))
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "step_up_required"
    page = await web.get("/family/apply", headers=_as(me.person_id, stepped=False))
    assert page.status_code == 303 and page.headers["location"].startswith("/verify")
    posted = await web.post(
        "/family/apply",
        data={"name": parent.name, "id_number": parent.id_number, "relation": "parent"},
        headers=_as(me.person_id, stepped=False),
    )
    assert posted.status_code == 303 and posted.headers["location"].startswith("/verify")
    assert await _lookups(web, parent.person_id) == []


async def test_the_answer_does_not_tell_which_of_the_relatives_facts_failed(
    web: httpx.AsyncClient, runtime: Runtime
) -> None:
    await world(runtime)
    me = await employee(runtime)
    parent = await member(runtime, "王建国")
    suspended = await member(runtime, "王二叔")
    async with runtime.sessions() as s:
        await s.execute(
            update(Enrolment).where(Enrolment.person_id == suspended.person_id).values(status="2")
        )
        await s.commit()
    nobody = new_id_number(birth=date(1950, 1, 1))
    answers = []
    # Same typed name each time: a wrong name for an insured ID number, an ID number nobody is
    # insured with, a suspended enrolment. Before, each answered with its own code and message.
    for id_number in (parent.id_number, nobody, suspended.id_number):
        answer = await web.post(
            "/api/v1/family/eligibility",
            json=_relatives("李某某", id_number),
            headers=_as(me.person_id),
        )
        assert answer.status_code == 200, answer.text
        answers.append(answer.json())
    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["eligible"] is False
    assert [r["code"] for r in answers[0]["refusals"]] == ["relative_not_eligible"]
    # What the applicant can act on is still said in full: the relation they chose.
    cousin = await web.post(
        "/api/v1/family/eligibility",
        json=_relatives(parent.name, parent.id_number, "other"),
        headers=_as(me.person_id),
    )
    assert [r["code"] for r in cousin.json()["refusals"]] == ["relation_not_allowed"]
    fine = await web.post(
        "/api/v1/family/eligibility",
        json=_relatives(parent.name, parent.id_number),
        headers=_as(me.person_id),
    )
    assert fine.json() == {"eligible": True, "refusals": []}
    # Applying answers the same way.
    applied = await web.post(
        "/api/v1/family/applications",
        json=_relatives("李某某", suspended.id_number),
        headers=_as(me.person_id),
    )
    assert applied.status_code == 422
    assert "暂不能添加为共济亲属" in applied.json()["error"]["message"]
    assert "参保" not in applied.json()["error"]["message"]


async def test_each_check_is_on_the_looked_up_persons_lookups(
    web: httpx.AsyncClient, runtime: Runtime
) -> None:
    await world(runtime)
    me = await employee(runtime, name="赵强")
    parent = await member(runtime, "王建国")
    await web.post(
        "/api/v1/family/eligibility",
        json=_relatives("李某某", parent.id_number),  # a stranger's guess at the name
        headers=_as(me.person_id),
    )
    page = await web.post(
        "/family/apply",
        data={"name": parent.name, "id_number": parent.id_number, "relation": "parent"},
        headers=_as(me.person_id),
    )
    assert page.status_code == 200, page.text[:300]
    refused = await web.post(
        "/api/v1/family/applications",
        json=_relatives(parent.name, parent.id_number, "child"),  # too old to be a child
        headers=_as(me.person_id),
    )
    assert refused.status_code == 422
    lines = await _lookups(web, parent.person_id)
    assert len(lines) == 3
    assert {(line["action"], line["who"], line["reason"]) for line in lines} == {
        ("家庭共济资格查询", "赵*", "申请家庭共济")
    }
    assert await _lookups(web, me.person_id) == []  # the applicant's own record is no look-up


async def test_checks_are_limited_per_person_and_day(
    web: httpx.AsyncClient, runtime: Runtime
) -> None:
    clock = runtime.clock = FixedClock(datetime(2026, 3, 2, 9, 30, tzinfo=CHINA_TZ))
    await world(runtime)
    me = await employee(runtime)
    other = await employee(runtime, name="李四")
    parent = await member(runtime, "王建国")
    body = _relatives(parent.name, parent.id_number)
    for _ in range(ELIGIBILITY_CHECKS_PER_DAY):
        ok = await web.post("/api/v1/family/eligibility", json=body, headers=_as(me.person_id))
        assert ok.status_code == 200, ok.text
    for path in ("/api/v1/family/eligibility", "/api/v1/family/applications"):
        used_up = await web.post(path, json=body, headers=_as(me.person_id))
        assert used_up.status_code == 429, used_up.text
        assert used_up.json()["error"]["code"] == "rate_limited"
        assert int(used_up.headers["retry-after"]) == (14 * 60 + 30) * 60  # Beijing midnight
    page = await web.post(
        "/family/apply",
        data={"name": parent.name, "id_number": parent.id_number, "relation": "parent"},
        headers=_as(me.person_id),
    )
    assert page.status_code == 429
    # Another person has their own allowance; refused checks looked nobody up.
    assert (
        await web.post("/api/v1/family/eligibility", json=body, headers=_as(other.person_id))
    ).status_code == 200
    assert len(await _lookups(web, parent.person_id)) == ELIGIBILITY_CHECKS_PER_DAY + 1
    # The next Beijing day brings a new allowance.
    clock.advance(timedelta(hours=15))  # 00:30 the next day in Beijing
    again = await web.post("/api/v1/family/eligibility", json=body, headers=_as(me.person_id))
    assert again.status_code == 200
