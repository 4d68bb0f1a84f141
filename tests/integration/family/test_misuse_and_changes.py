"""Freeze for misuse (four eyes), automatic end, relation correction, paying a contribution."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy import select, update

from tests.support.family import (
    PHARMACY,
    REVIEWER,
    buy,
    employee,
    member,
    open_aid,
    pharmacy,
    world,
)
from yibao.enrolment.tables import Enrolment
from yibao.family import service as family
from yibao.family.domain import (
    ContributionAlreadyPaid,
    QuotaExceeded,
    SecondApproverRequired,
    UnknownAuthorisation,
)
from yibao.ledger.tables import LedgerEntry, PersonalAccount
from yibao.notifications.tables import OutboxMessage
from yibao.runtime import Runtime

OTHER_STAFF = family.Staff(staff_id=903, name="复核员丙")


async def _messages(runtime: Runtime, person_id: int) -> list[OutboxMessage]:
    async with runtime.sessions() as s:
        stmt = select(OutboxMessage).where(OutboxMessage.person_id == person_id)
        return list((await s.execute(stmt.order_by(OutboxMessage.id))).scalars())


async def test_frozen_authoriser_pays_for_no_one_until_a_second_staff_member_unfreezes(
    runtime: Runtime,
) -> None:
    await world(runtime)
    payer = await employee(runtime, fen=10_000)
    parent = await member(runtime, "王建国")
    shop = await pharmacy(runtime)
    await open_aid(runtime, payer, parent)
    async with runtime.sessions() as s:
        with pytest.raises(Exception, match="冻结原因"):
            await family.freeze_for_misuse(s, runtime.clock, REVIEWER, payer.person_id, "")
    async with runtime.sessions() as s:
        freeze = await family.freeze_for_misuse(
            s, runtime.clock, REVIEWER, payer.person_id, "将社保卡借给他人使用"
        )
    cash = await buy(runtime, shop, parent, 1_000, f"{PHARMACY}202611250000000001")
    assert cash.payment.acct_mulaid_pay_fen == 0 and cash.payment.psn_cash_pay_fen == 1_000

    told_payer = [m for m in await _messages(runtime, payer.person_id) if "冻结" in m.subject]
    told_parent = [m for m in await _messages(runtime, parent.person_id) if "暂停" in m.subject]
    assert {m.channel for m in told_payer} == {"sms", "inapp"}
    for m in told_payer + told_parent:
        assert "将社保卡借给他人使用" in m.body and "申诉" in m.body and "12393" in m.body

    async with runtime.sessions() as s:
        await family.request_unfreeze(s, runtime.clock, REVIEWER, freeze.id, "已核实整改")
    async with runtime.sessions() as s:
        with pytest.raises(SecondApproverRequired):
            await family.approve_unfreeze(s, runtime.clock, REVIEWER, freeze.id)
    async with runtime.sessions() as s:
        done = await family.approve_unfreeze(s, runtime.clock, OTHER_STAFF, freeze.id)
        assert done.status == "unfrozen"
        account = await s.get(PersonalAccount, payer.account_id)
        assert account is not None and account.status == "active"
    paid = await buy(runtime, shop, parent, 1_000, f"{PHARMACY}202611250000000002")
    assert paid.payment.acct_mulaid_pay_fen == 1_000


async def test_authorisation_ends_when_either_side_leaves_insurance(runtime: Runtime) -> None:
    await world(runtime)
    payer = await employee(runtime)
    parent = await member(runtime, "王建国")
    child = await member(runtime, "王小宝", birth=date(2015, 8, 8))
    to_parent = await open_aid(runtime, payer, parent)
    to_child = await open_aid(runtime, payer, child, "child")
    async with runtime.sessions() as s:
        await s.execute(
            update(Enrolment).where(Enrolment.person_id == parent.person_id).values(status="4")
        )
        await s.commit()
    async with runtime.sessions() as s:
        assert await family.end_when_enrolment_ended(s, runtime.clock) == 1
    async with runtime.sessions() as s:
        assert await family.end_when_enrolment_ended(s, runtime.clock) == 0
        lines = {
            x.authorisation_id: x
            for x in await family.family_page(s, runtime.clock, payer.person_id)
        }
    assert lines[to_parent].status == "ended" and lines[to_child].status == "active"
    assert any(m.subject == "家庭共济已终止" for m in await _messages(runtime, parent.person_id))
    # The authoriser leaving employee insurance ends everything they gave.
    async with runtime.sessions() as s:
        await s.execute(
            update(Enrolment).where(Enrolment.person_id == payer.person_id).values(status="2")
        )
        await s.commit()
    async with runtime.sessions() as s:
        assert await family.end_when_enrolment_ended(s, runtime.clock) == 1


async def test_staff_correction_rechecks_eligibility(runtime: Runtime) -> None:
    await world(runtime)
    payer = await employee(runtime)
    parent = await member(runtime, "王建国")
    aid = await open_aid(runtime, payer, parent)
    async with runtime.sessions() as s:
        kept = await family.correct_relation(
            s, runtime.clock, REVIEWER, aid, "grandparent", "户口簿显示为祖父"
        )
        assert kept.refusals == [] and kept.authorisation.status == "active"
        assert kept.authorisation.relation == "grandparent"
    async with runtime.sessions() as s:
        ended = await family.correct_relation(
            s, runtime.clock, REVIEWER, aid, "other", "核实为远房亲属"
        )
    assert [r.code for r in ended.refusals] == ["relation_not_allowed"]
    assert ended.authorisation.status == "ended"


async def test_paying_a_relatives_resident_contribution_gives_a_receipt(runtime: Runtime) -> None:
    await world(runtime)
    payer = await employee(runtime, fen=100_000)
    parent = await member(runtime, "王建国")
    stranger = await employee(runtime, name="路人", fen=0)
    aid = await open_aid(runtime, payer, parent)
    async with runtime.sessions() as s:
        with pytest.raises(UnknownAuthorisation):
            await family.pay_relative_contribution(s, runtime.clock, stranger.person_id, aid)
    async with runtime.sessions() as s:
        receipt = await family.pay_relative_contribution(s, runtime.clock, payer.person_id, aid)
    assert receipt.amount_fen == 38_000  # 上海 demo region's yearly resident contribution
    assert receipt.balance_after_fen == 62_000 and receipt.receipt_no.startswith("JM")
    async with runtime.sessions() as s:
        with pytest.raises(ContributionAlreadyPaid):
            await family.pay_relative_contribution(s, runtime.clock, payer.person_id, aid)
        entry = (
            await s.execute(select(LedgerEntry).where(LedgerEntry.source_id == receipt.receipt_no))
        ).scalar_one()
        assert (entry.kind, entry.amount_fen, entry.beneficiary_person_id) == (
            "relative_contribution_debit",
            -38_000,
            parent.person_id,
        )
        found = await family.contribution_receipt(s, parent.person_id, receipt.receipt_no)
        assert found.amount_fen == 38_000


async def test_contribution_and_settlements_share_one_quota(runtime: Runtime) -> None:
    await world(runtime)
    payer = await employee(runtime, fen=100_000)
    parent = await member(runtime, "王建国")
    shop = await pharmacy(runtime)
    aid = await open_aid(runtime, payer, parent)
    async with runtime.sessions() as s:
        await family.change_quota(s, runtime.clock, payer.person_id, aid, 40_000)

    async def contribute() -> int:
        async with runtime.sessions() as s:
            try:
                return (
                    await family.pay_relative_contribution(s, runtime.clock, payer.person_id, aid)
                ).amount_fen
            except QuotaExceeded:
                return 0

    async def sale(i: int) -> int:
        r = await buy(runtime, shop, parent, 500, f"{PHARMACY}20261125{i:010d}")
        return r.payment.acct_mulaid_pay_fen

    results = await asyncio.gather(
        *(sale(i) for i in range(10)), contribute(), *(sale(i) for i in range(10, 20))
    )
    assert sum(results) <= 40_000
    async with runtime.sessions() as s:
        line = (await family.family_page(s, runtime.clock, payer.person_id))[0]
        account = await s.get(PersonalAccount, payer.account_id)
        assert account is not None
    assert line.used_fen == sum(results) and account.balance_fen == 100_000 - sum(results)


def test_sweep_command_reports_what_it_ended(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from tests.conftest import TEST_DATA_KEY
    from yibao.cli.main import app
    from yibao.config import get_settings
    from yibao.db.migrate import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    upgrade(url)
    monkeypatch.setenv("YIBAO_DATABASE_URL", url)
    monkeypatch.setenv("YIBAO_DATA_KEY", TEST_DATA_KEY)
    monkeypatch.setenv("YIBAO_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["family", "sweep", "--json"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert '"ended": 0' in result.output


async def test_staff_reads_and_decisions_go_on_the_audit_chain(runtime: Runtime) -> None:
    from yibao.audit import repository as audit_repository
    from yibao.audit.tables import AuditRecord

    await world(runtime)
    payer = await employee(runtime)
    parent = await member(runtime, "王建国")
    aid = await open_aid(runtime, payer, parent)  # approved by REVIEWER
    reviewer = family.Staff(REVIEWER.staff_id, REVIEWER.name, frozenset({"reviewer"}), "徐汇中心")
    async with runtime.sessions() as s:
        case = await family.open_case(s, runtime.clock, reviewer, aid)
        doc = case.documents[0]
    async with runtime.sessions() as s:
        _, data = await family.open_document(
            s, runtime.clock, family.document_store(runtime.settings.var_dir), reviewer, doc.id
        )
        assert data[:4] == b"\x89PNG"
    async with runtime.sessions() as s:
        await family.freeze_for_misuse(s, runtime.clock, reviewer, payer.person_id, "套取医保基金")
    async with runtime.sessions() as s:
        rows = (await s.execute(select(AuditRecord).order_by(AuditRecord.seq))).scalars().all()
        seen = [(r.action, r.subject_person_id, r.role) for r in rows]
        assert seen == [
            # Applying online looked the parent up (on their 查询记录), see docs/family.md.
            ("family.eligibility_check", parent.person_id, "family_applicant"),
            ("family.approve", payer.person_id, "staff"),
            ("family.case_view", payer.person_id, "reviewer"),
            ("family.case_view", parent.person_id, "reviewer"),
            ("family.document_view", parent.person_id, "reviewer"),
            ("account.freeze", payer.person_id, "reviewer"),
        ]
        # The parent sees in 查询记录 that the applicant checked them and that staff looked at
        # their application and documents.
        looked = await audit_repository.lookups_of(s, parent.person_id, limit=10)
        assert {r.action for r in looked} == {
            "family.eligibility_check",
            "family.case_view",
            "family.document_view",
        }
