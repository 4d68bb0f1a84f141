"""Opening mutual aid: every refusal rule, documents, consent, review, counter entry."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update

from tests.support.family import CLERK, REVIEWER, employee, member, open_aid, photo, world
from tests.support.world import new_id_number
from yibao.enrolment.tables import Enrolment
from yibao.family import service as family
from yibao.family.domain import (
    DocumentsMissing,
    InvalidDocument,
    NotEligible,
    ReviewerIsApplicant,
    StatusChangeRefused,
    UnknownAuthorisation,
)
from yibao.family.tables import MutualAidEvent
from yibao.identity.tables import OnlineAccount
from yibao.kernel.uploads import UploadRefused
from yibao.ledger.tables import PersonalAccount
from yibao.notifications.tables import OutboxMessage
from yibao.runtime import Runtime


async def _codes(runtime: Runtime, authoriser_id: int, *relatives: family.Relative) -> list[str]:
    async with runtime.sessions() as s:
        result = await family.check(
            s, runtime.cipher, runtime.clock, authoriser_id, list(relatives)
        )
    return [r.code for r in result.refusals]


async def test_every_refusal_names_the_condition_and_the_remedy(runtime: Runtime) -> None:
    await world(runtime)
    me = await employee(runtime)
    parent = await member(runtime, "王建国")
    sibling = await member(runtime, "王强", birth=date(1985, 1, 1))
    beijing_parent = await member(runtime, "王大伯", admdvs="110000", district="110101")
    suspended = await member(runtime, "王二叔")
    async with runtime.sessions() as s:
        await s.execute(
            update(Enrolment).where(Enrolment.person_id == suspended.person_id).values(status="2")
        )
        await s.commit()

    assert (
        await _codes(
            runtime, me.person_id, family.Relative(parent.name, parent.id_number, "parent")
        )
        == []
    )
    cousin = await _codes(
        runtime, me.person_id, family.Relative(sibling.name, sibling.id_number, "other")
    )
    assert cousin == ["relation_not_allowed"]
    # Shanghai allows near relatives; a sibling passes there.
    assert (
        await _codes(
            runtime, me.person_id, family.Relative(sibling.name, sibling.id_number, "sibling")
        )
        == []
    )
    assert await _codes(
        runtime,
        me.person_id,
        family.Relative(beijing_parent.name, beijing_parent.id_number, "parent"),
    ) == ["beneficiary_out_of_scope"]
    assert await _codes(
        runtime, me.person_id, family.Relative(suspended.name, suspended.id_number, "parent")
    ) == ["beneficiary_enrolment_not_normal"]
    assert await _codes(
        runtime, me.person_id, family.Relative("李四", parent.id_number, "parent")
    ) == ["beneficiary_name_mismatch"]
    assert await _codes(
        runtime, me.person_id, family.Relative(parent.name, parent.id_number, "child")
    ) == ["relation_age_mismatch"]
    stranger_id = new_id_number(district="110101", birth=date(1955, 1, 1))
    assert await _codes(runtime, me.person_id, family.Relative("赵六", stranger_id, "parent")) == [
        "beneficiary_not_insured"
    ]
    assert await _codes(
        runtime, me.person_id, family.Relative(me.name, me.id_number, "spouse")
    ) == ["beneficiary_is_self"]
    # The authoriser's own conditions: a resident has no account to share.
    resident = await member(runtime, "居民甲", birth=date(1980, 1, 1))
    assert await _codes(
        runtime, resident.person_id, family.Relative(parent.name, parent.id_number, "parent")
    ) == ["authoriser_not_employee"]
    async with runtime.sessions() as s:
        await s.execute(
            update(PersonalAccount)
            .where(PersonalAccount.id == me.account_id)
            .values(status="frozen", frozen_reason="测试")
        )
        await s.commit()
    frozen = await _codes(
        runtime, me.person_id, family.Relative(parent.name, parent.id_number, "parent")
    )
    assert frozen == ["authoriser_account_frozen"]
    async with runtime.sessions() as s:
        with pytest.raises(NotEligible) as refused:
            await family.start_application(
                s,
                runtime.cipher,
                runtime.clock,
                me.person_id,
                [family.Relative(sibling.name, sibling.id_number, "other")],
            )
    assert {r["code"] for r in refused.value.details["refusals"]} == {
        "authoriser_account_frozen",
        "relation_not_allowed",
    }
    assert all(r["remedy"] for r in refused.value.details["refusals"])


async def test_region_without_near_relatives_refuses_a_sibling(runtime: Runtime) -> None:
    await world(runtime)
    me = await employee(runtime, admdvs="110000", district="110101")
    brother = await member(
        runtime, "王强", admdvs="110000", district="110101", birth=date(1985, 1, 1)
    )
    codes = await _codes(
        runtime, me.person_id, family.Relative(brother.name, brother.id_number, "sibling")
    )
    assert codes == ["near_relative_not_allowed_here"]


async def test_province_scope_allows_the_same_province_only(runtime: Runtime) -> None:
    await world(runtime)
    me = await employee(runtime, admdvs="440300", district="440303")
    near = await member(runtime, "王母", admdvs="440300", district="440304")
    far = await member(runtime, "王父", admdvs="310000")
    assert (
        await _codes(runtime, me.person_id, family.Relative(near.name, near.id_number, "parent"))
        == []
    )
    assert await _codes(
        runtime, me.person_id, family.Relative(far.name, far.id_number, "parent")
    ) == ["beneficiary_out_of_scope"]


async def test_documents_are_required_checked_and_reencoded(runtime: Runtime) -> None:
    await world(runtime)
    me = await employee(runtime)
    parent = await member(runtime, "王建国")
    async with runtime.sessions() as s:
        started = await family.start_application(
            s,
            runtime.cipher,
            runtime.clock,
            me.person_id,
            [family.Relative(parent.name, parent.id_number, "parent")],
        )
    aid = started.authorisations[0].id
    async with runtime.sessions() as s:
        with pytest.raises(DocumentsMissing):
            await family.submit_application(
                s, runtime.clock, started.application.id, person_id=me.person_id
            )
    async with runtime.sessions() as s:
        with pytest.raises(InvalidDocument):
            await family.attach_document(
                s,
                runtime.clock,
                family.document_store(runtime.settings.var_dir),
                aid,
                "id_photo",
                b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n",
                person_id=me.person_id,
            )
    for junk, limit in ((b"GIF89a not what we take", 10**7), (photo(), 100)):
        async with runtime.sessions() as s:
            with pytest.raises(UploadRefused):
                await family.attach_document(
                    s,
                    runtime.clock,
                    family.document_store(runtime.settings.var_dir),
                    aid,
                    "id_photo",
                    junk,
                    person_id=me.person_id,
                    max_bytes=limit,
                )
    async with runtime.sessions() as s:
        with pytest.raises(UnknownAuthorisation):
            await family.attach_document(
                s,
                runtime.clock,
                family.document_store(runtime.settings.var_dir),
                aid,
                "id_photo",
                photo(),
                person_id=parent.person_id,
            )
    jpeg = photo("blue", "JPEG") + b"trailing junk that is not part of the image"
    async with runtime.sessions() as s:
        doc = await family.attach_document(
            s,
            runtime.clock,
            family.document_store(runtime.settings.var_dir),
            aid,
            "id_photo",
            jpeg,
            person_id=me.person_id,
        )
    stored = runtime.settings.var_dir / "uploads" / doc.storage_name[:2] / doc.storage_name
    assert stored.is_file() and doc.content_type == "image/jpeg"
    assert b"trailing junk" not in stored.read_bytes()
    async with runtime.sessions() as s:
        with pytest.raises(DocumentsMissing, match="亲属关系证明"):
            await family.submit_application(
                s, runtime.clock, started.application.id, person_id=me.person_id
            )


async def test_adult_with_account_must_consent_and_may_decline(runtime: Runtime) -> None:
    await world(runtime)
    me = await employee(runtime)
    parent = await member(runtime, "王建国")
    async with runtime.sessions() as s:
        s.add(
            OnlineAccount(
                person_id=parent.person_id,
                phone_enc=b"x",
                phone_hash="h" * 64,
                phone_masked="139****0000",
                password_hash="x",
                real_name_method="photo",
                real_name_verified_at=runtime.clock.now(),
                failed_count=0,
                created_at=runtime.clock.now(),
            )
        )
        started = await family.start_application(
            s,
            runtime.cipher,
            runtime.clock,
            me.person_id,
            [family.Relative(parent.name, parent.id_number, "parent")],
        )
    aid = started.authorisations[0].id
    for kind in ("id_photo", "relation_proof"):
        async with runtime.sessions() as s:
            await family.attach_document(
                s,
                runtime.clock,
                family.document_store(runtime.settings.var_dir),
                aid,
                kind,
                photo(),
                person_id=me.person_id,
            )
    async with runtime.sessions() as s:
        rows = await family.submit_application(
            s, runtime.clock, started.application.id, person_id=me.person_id
        )
        assert rows[0].consent_required and rows[0].status == "pending_consent"
        asked = (
            (
                await s.execute(
                    select(OutboxMessage).where(OutboxMessage.person_id == parent.person_id)
                )
            )
            .scalars()
            .all()
        )
        assert {m.subject for m in asked} == {"家庭共济授权待您确认"}
    async with runtime.sessions() as s:
        with pytest.raises(StatusChangeRefused):  # not reviewable before consent
            await family.review(s, runtime.cipher, runtime.clock, aid, REVIEWER, approve=True)
    async with runtime.sessions() as s:
        with pytest.raises(UnknownAuthorisation):
            await family.consent(s, runtime.clock, me.person_id, aid, True)
    async with runtime.sessions() as s:
        row = await family.consent(s, runtime.clock, parent.person_id, aid, False)
        assert row.status == "rejected" and row.status_reason == "亲属未同意共济授权"


async def test_minor_child_needs_no_consent_and_review_records_each_step(runtime: Runtime) -> None:
    await world(runtime)
    me = await employee(runtime)
    child = await member(runtime, "王小宝", birth=date(2015, 8, 8))
    aid = await open_aid(runtime, me, child, "child")
    async with runtime.sessions() as s:
        events = (
            (
                await s.execute(
                    select(MutualAidEvent)
                    .where(MutualAidEvent.authorisation_id == aid)
                    .order_by(MutualAidEvent.id)
                )
            )
            .scalars()
            .all()
        )
    assert [(e.action, e.status) for e in events] == [
        ("applied", "applied"),
        ("submitted", "under_review"),
        ("approved", "active"),
    ]


async def test_counter_entry_cannot_be_reviewed_by_its_clerk_and_reject_needs_reason(
    runtime: Runtime,
) -> None:
    await world(runtime)
    me = await employee(runtime)
    parent = await member(runtime, "王建国")
    async with runtime.sessions() as s:
        started = await family.start_application(
            s,
            runtime.cipher,
            runtime.clock,
            me.person_id,
            [family.Relative(parent.name, parent.id_number, "parent")],
            clerk=CLERK,
        )
    aid = started.authorisations[0].id
    for kind in ("id_photo", "relation_proof"):
        async with runtime.sessions() as s:
            await family.attach_document(
                s,
                runtime.clock,
                family.document_store(runtime.settings.var_dir),
                aid,
                kind,
                photo(),
                clerk=CLERK,
            )
    async with runtime.sessions() as s:
        await family.submit_application(s, runtime.clock, started.application.id, clerk=CLERK)
    clerk_as_reviewer = family.Staff(staff_id=CLERK.staff_id, name=CLERK.name)
    async with runtime.sessions() as s:
        with pytest.raises(ReviewerIsApplicant):
            await family.review(
                s, runtime.cipher, runtime.clock, aid, clerk_as_reviewer, approve=True
            )
    async with runtime.sessions() as s:
        with pytest.raises(Exception, match="原因"):
            await family.review(
                s, runtime.cipher, runtime.clock, aid, REVIEWER, approve=False, reason=" "
            )
    async with runtime.sessions() as s:
        row = await family.review(
            s,
            runtime.cipher,
            runtime.clock,
            aid,
            REVIEWER,
            approve=False,
            reason="户口簿照片不清晰",
        )
        assert row.status == "rejected" and row.status_reason == "户口簿照片不清晰"
    # A rejected application does not block a new one.
    async with runtime.sessions() as s:
        again = await family.check(
            s,
            runtime.cipher,
            runtime.clock,
            me.person_id,
            [family.Relative(parent.name, parent.id_number, "parent")],
        )
    assert again.eligible


async def test_a_second_live_application_for_the_same_relative_is_refused(runtime: Runtime) -> None:
    await world(runtime)
    me = await employee(runtime)
    parent = await member(runtime, "王建国")
    await open_aid(runtime, me, parent)
    codes = await _codes(
        runtime, me.person_id, family.Relative(parent.name, parent.id_number, "parent")
    )
    assert codes == ["already_authorised"]
