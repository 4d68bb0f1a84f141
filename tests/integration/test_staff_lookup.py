"""Staff find a person only with a reason; every look-up and unmask lands on 查询记录."""

from __future__ import annotations

import json

import pytest

from tests.support.world import define_regions, enrol, new_id_number
from yibao.audit import repository as audit_repository
from yibao.audit import service as audit
from yibao.audit.domain import LookupReasonRequired, UnmaskNotAllowed
from yibao.kernel.actors import StaffActor
from yibao.kernel.idnumber import InvalidIdNumber
from yibao.runtime import Runtime

CLERK = StaffActor(301, "张建华", frozenset({"clerk"}), "徐汇区医保中心")
REVIEWER = StaffActor(302, "李审核", frozenset({"reviewer"}), "徐汇区医保中心")


async def test_find_by_id_card_or_phone_with_a_reason(runtime: Runtime) -> None:
    id_number = new_id_number()
    async with runtime.sessions() as s:
        await define_regions(s)
        person = (await enrol(runtime, s, id_number=id_number, phone="13912345678")).person
    async with runtime.sessions() as s:
        with pytest.raises(LookupReasonRequired):
            await audit.look_up_person(
                s, runtime.cipher, runtime.clock, CLERK, by="id_number", value=id_number, reason=""
            )
    for by, value, reason in (
        ("id_number", id_number.lower(), "counter_visit"),
        ("phone", "139 1234 5678", "hotline_call"),
        ("card_no", "NO-SUCH-CARD", "counter_visit"),
    ):
        async with runtime.sessions() as s:
            found = await audit.look_up_person(
                s, runtime.cipher, runtime.clock, CLERK, by=by, value=value, reason=reason
            )
            assert [p.id for p in found] == ([] if by == "card_no" else [person.id])
    async with runtime.sessions() as s:
        with pytest.raises(InvalidIdNumber):
            await audit.look_up_person(
                s,
                runtime.cipher,
                runtime.clock,
                CLERK,
                by="id_number",
                value="123",
                reason="counter_visit",
            )
    async with runtime.sessions() as s:
        lines = await audit.lookups_for_person(s, person.id)
        everything = await audit_repository.records_between(s, None, None)
    assert [(line.reason, line.who) for line in lines] == [
        ("热线来电", "张**"),
        ("窗口办理", "张**"),
    ]
    miss = everything[-1]
    assert (miss.action, miss.subject_person_id) == ("person.search", None)
    assert id_number not in "".join(r.detail_json for r in everything)
    assert json.loads(miss.detail_json) == {"by": "card_no"}


async def test_unmask_is_a_permission_and_recorded(runtime: Runtime) -> None:
    id_number = new_id_number()
    async with runtime.sessions() as s:
        await define_regions(s)
        person = (await enrol(runtime, s, id_number=id_number, phone="13900001111")).person
    async with runtime.sessions() as s:
        with pytest.raises(UnmaskNotAllowed):
            await audit.unmask(
                s,
                runtime.cipher,
                runtime.clock,
                REVIEWER,
                person_id=person.id,
                field="id_number",
                reason="claim_review",
            )
    async with runtime.sessions() as s:
        shown = await audit.unmask(
            s,
            runtime.cipher,
            runtime.clock,
            CLERK,
            person_id=person.id,
            field="id_number",
            reason="counter_visit",
        )
    assert shown == id_number
    async with runtime.sessions() as s:
        phone = await audit.unmask(
            s,
            runtime.cipher,
            runtime.clock,
            CLERK,
            person_id=person.id,
            field="phone",
            reason="counter_visit",
        )
    assert phone == "13900001111"
    async with runtime.sessions() as s:
        lines = await audit.lookups_for_person(s, person.id)
    assert [line.action_name for line in lines] == ["查看完整证件号码或手机号"] * 2
