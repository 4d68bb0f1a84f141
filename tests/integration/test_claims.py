"""Claims on real databases: idempotent submit with documents, the whole journey, roles, IDOR."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.support.documents import jpeg_with_exif, pdf, png
from tests.support.world import define_regions, enrol
from yibao.audit import repository as audit_repository
from yibao.claims import repository as claims_repository
from yibao.claims.domain import (
    ClaimDraft,
    ClaimNotFound,
    ClaimStateConflict,
    StaffActor,
    StaffRoleNotAllowed,
)
from yibao.claims.service import claim_reads, claims
from yibao.claims.tables import Claim, ClaimAttachment
from yibao.kernel.clock import china_today
from yibao.kernel.uploads import DocumentStore, UploadRefused
from yibao.notifications.tables import OutboxMessage
from yibao.runtime import Runtime

CLERK = StaffActor(101, "张建华", frozenset({"clerk"}), "徐汇区医保中心")
REVIEWER = StaffActor(102, "李审核", frozenset({"reviewer"}), "徐汇区医保中心")
MAX = 2 * 1024 * 1024


def _store(runtime: Runtime) -> DocumentStore:
    return DocumentStore(runtime.settings.var_dir / "uploads")


def _draft(runtime: Runtime, **changes: object) -> ClaimDraft:
    today = china_today(runtime.clock)
    base: dict[str, object] = dict(
        fixmedins_name="北京协和医院",
        fixmedins_code="H11010100001",
        med_type="13",
        begin_date=today - timedelta(days=3),
        end_date=today - timedelta(days=2),
        medfee_sumamt_fen=500_000,
        fulamt_ownpay_amt_fen=20_000,
        diagnosis="急性阑尾炎",
        not_settled_reason="out_of_area_emergency",
    )
    base.update(changes)
    return ClaimDraft(**base)  # type: ignore[arg-type]


def _uploads() -> list[claims.Upload]:
    return [
        claims.Upload("invoice", "发票.jpg", jpeg_with_exif()),
        claims.Upload("diagnosis", "诊断证明.pdf", pdf()),
    ]


async def _people(runtime: Runtime) -> tuple[int, int]:
    async with runtime.sessions() as s:
        await define_regions(s)
        a = await enrol(runtime, s, name="王芳")
        b = await enrol(runtime, s, name="赵强")
        return a.person.id, b.person.id


async def _submit(runtime: Runtime, person_id: int, key: str = "req-00000001") -> Claim:
    async with runtime.sessions() as s:
        return await claims.submit_claim(
            s,
            _store(runtime),
            runtime.clock,
            person_id=person_id,
            request_key=key,
            draft=_draft(runtime),
            uploads=_uploads(),
            max_bytes=MAX,
        )


def _files(runtime: Runtime) -> list[Path]:
    root = runtime.settings.var_dir / "uploads"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def test_double_submit_makes_one_claim(runtime: Runtime) -> None:
    me, _ = await _people(runtime)
    first = await _submit(runtime, me)
    again = await _submit(runtime, me)
    assert again.id == first.id
    async with runtime.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(Claim))).scalar_one() == 1
        attachments = await claims_repository.attachments_of(s, first.id)
    assert [a.kind for a in attachments] == ["invoice", "diagnosis"]
    assert [a.content_type for a in attachments] == ["image/jpeg", "application/pdf"]
    files = _files(runtime)
    assert len(files) == 2 and {f.name for f in files} == {a.storage_name for a in attachments}
    assert all("发票" not in f.name for f in files)
    assert all(b"SecretPhoneMaker" not in f.read_bytes() for f in files)


async def test_concurrent_double_submit_on_postgres(runtime: Runtime, backend: str) -> None:
    if backend != "postgres":
        pytest.skip("many connections at once: the PostgreSQL case")
    me, _ = await _people(runtime)
    results = await asyncio.gather(*(_submit(runtime, me, "tap-tap-tap-1") for _ in range(12)))
    assert len({c.id for c in results}) == 1
    async with runtime.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(Claim))).scalar_one() == 1
        stored = (await s.execute(select(func.count()).select_from(ClaimAttachment))).scalar_one()
    assert stored == 2 and len(_files(runtime)) == 2  # the losers' files were removed


async def test_bad_upload_leaves_nothing_behind(runtime: Runtime) -> None:
    me, _ = await _people(runtime)
    async with runtime.sessions() as s:
        with pytest.raises(UploadRefused):
            await claims.submit_claim(
                s,
                _store(runtime),
                runtime.clock,
                person_id=me,
                request_key="req-bad-upload",
                draft=_draft(runtime),
                uploads=[
                    claims.Upload("invoice", "a.png", png()),
                    claims.Upload("diagnosis", "b.gif", b"GIF89a" + b"\x00" * 20),
                ],
                max_bytes=MAX,
            )
    async with runtime.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(Claim))).scalar_one() == 0
    assert _files(runtime) == []


async def test_the_whole_journey_with_steps_notices_and_audit(runtime: Runtime) -> None:
    me, _ = await _people(runtime)
    claim = await _submit(runtime, me)
    async with runtime.sessions() as s:
        with pytest.raises(StaffRoleNotAllowed):
            await claims.start_review(s, runtime.clock, CLERK, claim.id)
    async with runtime.sessions() as s:
        await claims.start_review(s, runtime.clock, REVIEWER, claim.id)
    async with runtime.sessions() as s:
        with pytest.raises(StaffRoleNotAllowed):
            await claims.approve_claim(
                s,
                runtime.clock,
                CLERK,
                claim.id,
                fulamt_ownpay_amt_fen=20_000,
                overlmt_selfpay_fen=10_000,
                preselfpay_amt_fen=5_000,
            )
    async with runtime.sessions() as s:
        approved = await claims.approve_claim(
            s,
            runtime.clock,
            REVIEWER,
            claim.id,
            fulamt_ownpay_amt_fen=20_000,
            overlmt_selfpay_fen=10_000,
            preselfpay_amt_fen=5_000,
        )
    # Shanghai: 465000 in scope, deductible 150000, 75% of the rest.
    assert (approved.inscp_scp_amt_fen, approved.act_pay_dedc_fen) == (465_000, 150_000)
    assert (approved.hifp_pay_fen, approved.psn_part_amt_fen) == (236_250, 263_750)
    async with runtime.sessions() as s:
        await claims.mark_paid(s, runtime.clock, CLERK, claim.id, payment_ref="PAY20261125001")
    async with runtime.sessions() as s:
        with pytest.raises(ClaimStateConflict):
            await claims.mark_paid(s, runtime.clock, CLERK, claim.id, payment_ref="PAY20261125002")
    async with runtime.sessions() as s:
        progress = await claim_reads.progress_for_person(s, me, claim.id)
        outbox = list((await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())
        actions = [r.action for r in await audit_repository.records_between(s, None, None)]
    assert [(st.event, st.status) for st in progress.steps] == [
        ("submit", "submitted"),
        ("start_review", "under_review"),
        ("approve", "approved"),
        ("pay", "paid"),
    ]
    assert [st.actor_name for st in progress.steps] == ["本人", "李审核", "李审核", "张建华"]
    assert progress.claim.status == "paid" and progress.claim.payment_ref == "PAY20261125001"
    assert len(outbox) == 4 and all(m.person_id == me for m in outbox)
    assert "统筹基金支付 2362.50 元" in outbox[2].body
    assert actions == ["claim.review", "claim.approve", "claim.pay"]


async def test_withdraw_reject_and_resubmit(runtime: Runtime) -> None:
    me, _ = await _people(runtime)
    withdrawn = await _submit(runtime, me, "req-withdraw-1")
    async with runtime.sessions() as s:
        assert (
            await claims.withdraw_claim(s, runtime.clock, me, withdrawn.id)
        ).status == "withdrawn"
    claim = await _submit(runtime, me, "req-reject-001")
    async with runtime.sessions() as s:
        await claims.start_review(s, runtime.clock, REVIEWER, claim.id)
    async with runtime.sessions() as s:
        with pytest.raises(ClaimStateConflict):
            await claims.withdraw_claim(s, runtime.clock, me, claim.id)
    async with runtime.sessions() as s:
        rejected = await claims.reject_claim(
            s, runtime.clock, REVIEWER, claim.id, code="R01", text="缺少费用清单"
        )
    assert (rejected.status, rejected.reject_code) == ("rejected", "R01")
    async with runtime.sessions() as s:
        again = await claims.resubmit_claim(
            s,
            _store(runtime),
            runtime.clock,
            person_id=me,
            claim_id=claim.id,
            draft=_draft(runtime, medfee_sumamt_fen=480_000),
            uploads=[claims.Upload("itemised_list", "清单.png", png())],
            max_bytes=MAX,
        )
    assert (again.status, again.round, again.medfee_sumamt_fen, again.reject_code) == (
        "submitted",
        2,
        480_000,
        None,
    )
    async with runtime.sessions() as s:
        progress = await claim_reads.progress_for_person(s, me, claim.id)
    assert [st.event for st in progress.steps] == ["submit", "start_review", "reject", "resubmit"]
    assert progress.steps[2].note == "材料不全：缺少费用清单"
    assert [(a.kind, a.round) for a in progress.attachments] == [
        ("invoice", 1),
        ("diagnosis", 1),
        ("itemised_list", 2),
    ]


async def test_a_person_never_reaches_another_persons_claim(runtime: Runtime) -> None:
    me, other = await _people(runtime)
    theirs = await _submit(runtime, other, "req-theirs-01")
    async with runtime.sessions() as s:
        with pytest.raises(ClaimNotFound):
            await claim_reads.progress_for_person(s, me, theirs.id)
    async with runtime.sessions() as s:
        with pytest.raises(ClaimNotFound):
            await claims.withdraw_claim(s, runtime.clock, me, theirs.id)
    async with runtime.sessions() as s:
        assert await claims_repository.claims_of(s, me) == []
        # The same request key is free for another person.
        mine = await claims.submit_claim(
            s,
            _store(runtime),
            runtime.clock,
            person_id=me,
            request_key="req-theirs-01",
            draft=_draft(runtime),
            uploads=_uploads(),
            max_bytes=MAX,
        )
    assert mine.id != theirs.id


async def test_staff_opening_a_claim_shows_on_the_persons_lookups(runtime: Runtime) -> None:
    me, _ = await _people(runtime)
    claim = await _submit(runtime, me)
    async with runtime.sessions() as s:
        await claim_reads.claim_for_staff(s, runtime.clock, REVIEWER, claim.id, "claim_review")
    async with runtime.sessions() as s:
        rows = await audit_repository.lookups_of(s, me)
    assert [(r.action, r.actor_name, r.reason) for r in rows] == [
        ("claim.view", "李审核", "claim_review")
    ]
    assert json.loads(rows[0].detail_json) == {"claim_id": claim.id}
