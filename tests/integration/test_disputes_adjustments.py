"""Disputes ("这笔不是我") and maker-checker adjustments on real databases."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.support.world import define_regions, enrol, fund
from yibao.audit import repository as audit_repository
from yibao.claims.domain import (
    DisputeNotFound,
    InvalidProposal,
    SelfApprovalRefused,
    StaffActor,
    StaffRoleNotAllowed,
)
from yibao.claims.service import adjustments, disputes
from yibao.ledger import repository as ledger
from yibao.ledger.domain import AccountFrozen, EntryKind
from yibao.runtime import Runtime

CLERK = StaffActor(201, "陈经办", frozenset({"clerk"}), "静安区医保中心")
REVIEWER = StaffActor(202, "周审核", frozenset({"reviewer"}), "静安区医保中心")
ADMIN = StaffActor(203, "吴管理", frozenset({"admin"}), "市医保中心")
ADMIN_2 = StaffActor(204, "郑管理", frozenset({"admin"}), "市医保中心")


async def _people_with_spending(runtime: Runtime) -> tuple[int, int, int, int]:
    """Two persons with money; the first has one pharmacy debit. Returns ids and the debit."""
    async with runtime.sessions() as s:
        await define_regions(s)
        a = await enrol(runtime, s, name="王芳")
        b = await enrol(runtime, s, name="赵强")
    async with runtime.sessions() as s:
        await fund(s, a.person.id, 50_000, "fund-a")
    async with runtime.sessions() as s:
        await fund(s, b.person.id, 50_000, "fund-b")
    async with runtime.sessions() as s:
        assert a.account_id is not None
        account = await ledger.lock_account(s, a.account_id)
        entry = await ledger.post(
            s,
            account,
            ledger.Posting(
                EntryKind.SETTLEMENT_DEBIT,
                -12_345,
                "setl:S1:own",
                "某某大药房",
                counterparty_code="P31010400001",
                source_type="settlement",
                source_id="S1",
            ),
            runtime.clock.now(),
        )
        await s.commit()
        return a.person.id, b.person.id, entry.id, a.account_id


async def _balance(runtime: Runtime, account_id: int) -> int:
    async with runtime.sessions() as s:
        return (await ledger.lock_account(s, account_id)).balance_fen


async def test_dispute_a_record_and_freeze_at_once(runtime: Runtime) -> None:
    me, other, entry_id, account_id = await _people_with_spending(runtime)
    async with runtime.sessions() as s:
        with pytest.raises(DisputeNotFound):
            await disputes.dispute_entry(
                s, runtime.clock, person_id=other, entry_id=entry_id, statement="", freeze=True
            )
    async with runtime.sessions() as s:
        case = await disputes.dispute_entry(
            s,
            runtime.clock,
            person_id=me,
            entry_id=entry_id,
            statement="我没去过这家药店",
            freeze=True,
        )
    details = json.loads(case.details_json)
    assert (details["amount"], details["counterparty"], details["source_id"]) == (
        "-123.45",
        "某某大药房",
        "S1",
    )
    assert case.froze_account and case.status == "open"
    async with runtime.sessions() as s:
        again = await disputes.dispute_entry(
            s, runtime.clock, person_id=me, entry_id=entry_id, statement="再点一次", freeze=False
        )
    assert again.id == case.id
    async with runtime.sessions() as s:
        account = await ledger.lock_account(s, account_id)
        assert account.status == "frozen" and "争议编号" in (account.frozen_reason or "")
        with pytest.raises(AccountFrozen):
            await ledger.post(
                s,
                account,
                ledger.Posting(EntryKind.SETTLEMENT_DEBIT, -100, "after-freeze", "某药店"),
                runtime.clock.now(),
            )
    async with runtime.sessions() as s:
        with pytest.raises(StaffRoleNotAllowed):
            await disputes.resolve_dispute(
                s, runtime.clock, CLERK, case.id, outcome="own_use", note="核实"
            )
    async with runtime.sessions() as s:
        await disputes.dispute_for_staff(s, runtime.clock, REVIEWER, case.id)
    async with runtime.sessions() as s:
        done = await disputes.resolve_dispute(
            s, runtime.clock, REVIEWER, case.id, outcome="misuse_confirmed", note="监控显示非本人"
        )
    assert (done.status, done.outcome, done.resolved_by_name) == (
        "resolved",
        "misuse_confirmed",
        "周审核",
    )
    async with runtime.sessions() as s:
        actions = [r.action for r in await audit_repository.records_between(s, None, None)]
    assert actions == ["dispute.view", "dispute.resolve"]


async def test_dispute_a_lookup_from_my_lookups_only(runtime: Runtime) -> None:
    me, other, _, _ = await _people_with_spending(runtime)
    async with runtime.sessions() as s:
        row = await audit_repository.record(
            s,
            actor_type="staff",
            actor_id=CLERK.staff_id,
            actor_name=CLERK.name,
            role="clerk",
            office=CLERK.office,
            action="person.lookup",
            subject_person_id=me,
            reason="counter_visit",
            detail={},
            now=runtime.clock.now(),
        )
        await s.commit()
    async with runtime.sessions() as s:
        with pytest.raises(DisputeNotFound):
            await disputes.dispute_lookup(
                s, runtime.clock, person_id=other, audit_record_id=row.id, statement=""
            )
    async with runtime.sessions() as s:
        case = await disputes.dispute_lookup(
            s, runtime.clock, person_id=me, audit_record_id=row.id, statement="那天我没去窗口"
        )
    assert case.kind == "lookup" and json.loads(case.details_json)["office"] == "静安区医保中心"


async def test_adjustment_needs_a_second_person(runtime: Runtime) -> None:
    me, _, _, account_id = await _people_with_spending(runtime)
    async with runtime.sessions() as s:
        with pytest.raises(StaffRoleNotAllowed):
            await adjustments.propose_adjustment(
                s,
                runtime.clock,
                REVIEWER,
                person_id=me,
                kind="staff_adjustment",
                amount_fen=1_000,
                reason="补记漏划金额",
            )
    async with runtime.sessions() as s:
        proposal = await adjustments.propose_adjustment(
            s,
            runtime.clock,
            ADMIN,
            person_id=me,
            kind="staff_adjustment",
            amount_fen=1_000,
            reason="补记2026年10月漏划金额",
        )
    async with runtime.sessions() as s:
        with pytest.raises(SelfApprovalRefused):
            await adjustments.approve_proposal(s, runtime.clock, ADMIN, proposal.id)
    async with runtime.sessions() as s:
        with pytest.raises(StaffRoleNotAllowed):
            await adjustments.approve_proposal(s, runtime.clock, CLERK, proposal.id)
    assert await _balance(runtime, account_id) == 50_000 - 12_345
    async with runtime.sessions() as s:
        approved = await adjustments.approve_proposal(s, runtime.clock, ADMIN_2, proposal.id)
    assert approved.status == "approved" and approved.ledger_entry_id is not None
    assert await _balance(runtime, account_id) == 50_000 - 12_345 + 1_000
    async with runtime.sessions() as s:
        with pytest.raises(InvalidProposal):
            await adjustments.approve_proposal(s, runtime.clock, ADMIN_2, proposal.id)
        entry = await ledger.entry_by_id(s, approved.ledger_entry_id)
        assert entry is not None
        assert (entry.kind, entry.amount_fen, entry.source_id) == (
            "staff_adjustment",
            1_000,
            str(proposal.id),
        )
    async with runtime.sessions() as s:
        actions = [r.action for r in await audit_repository.records_between(s, None, None)]
    assert actions == ["adjustment.propose", "adjustment.approve"]


async def test_reversal_by_maker_checker(runtime: Runtime) -> None:
    me, _, entry_id, account_id = await _people_with_spending(runtime)
    async with runtime.sessions() as s:
        proposal = await adjustments.propose_adjustment(
            s,
            runtime.clock,
            CLERK,
            person_id=me,
            kind="reversal",
            entry_id=entry_id,
            reason="药店重复收费，冲正",
        )
    async with runtime.sessions() as s:
        with pytest.raises(InvalidProposal):
            await adjustments.propose_adjustment(
                s,
                runtime.clock,
                CLERK,
                person_id=me,
                kind="reversal",
                entry_id=entry_id,
                reason="再提一次冲正",
            )
    async with runtime.sessions() as s:
        rejected_by_self = adjustments.reject_proposal(
            s,
            runtime.clock,
            StaffActor(201, "陈经办", frozenset({"admin"}), "x"),
            proposal.id,
            note="自己退回",
        )
        with pytest.raises(SelfApprovalRefused):
            await rejected_by_self
    async with runtime.sessions() as s:
        await adjustments.approve_proposal(s, runtime.clock, ADMIN, proposal.id)
    assert await _balance(runtime, account_id) == 50_000


async def test_database_refuses_self_approval(runtime: Runtime) -> None:
    me, _, _, _ = await _people_with_spending(runtime)
    async with runtime.sessions() as s:
        proposal = await adjustments.propose_adjustment(
            s,
            runtime.clock,
            CLERK,
            person_id=me,
            kind="staff_adjustment",
            amount_fen=-500,
            reason="重复划入，予以扣回",
        )
    async with runtime.sessions() as s:
        with pytest.raises(IntegrityError):
            await s.execute(
                text(
                    "UPDATE adjustment_proposals SET status = 'rejected',"
                    " decided_by_staff_id = proposed_by_staff_id WHERE id = :id"
                ),
                {"id": proposal.id},
            )
