"""The audit rule book's use cases on SQLite and PostgreSQL: maker-checker (no self-approval, the
roles), versions by effective date, each step in the audit trail, the operator's rule book."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit.tables import AuditRecord
from yibao.auditrules import repository, service
from yibao.auditrules.domain import (
    InvalidRule,
    RuleDecided,
    RuleRoleNotAllowed,
    SelfApprovalRefused,
)
from yibao.kernel.actors import StaffActor
from yibao.kernel.clock import china_today
from yibao.runtime import Runtime

DRUG = "XC09AAD012A001010104291"
MAKER = StaffActor(11, "张审核", frozenset({"reviewer"}), "医保中心")
OTHER_CLERK = StaffActor(12, "王经办", frozenset({"clerk"}), "医保中心")
CHECKER = StaffActor(13, "李复核", frozenset({"reviewer"}), "医保中心")


def proposal(runtime: Runtime, max_cnt: str, *, days_ahead: int = 0) -> service.Proposal:
    return service.Proposal(
        rule_code="QTY",
        kind="quantity",
        med_list_codg=DRUG,
        severity="warn",
        name="缬沙坦限量",
        params={"max_cnt": max_cnt, "unused": "x"},
        effective_from=china_today(runtime.clock) + timedelta(days=days_ahead),
        reason="测试",
    )


async def test_one_proposes_another_approves(runtime: Runtime, session: AsyncSession) -> None:
    clock = runtime.clock
    today = china_today(clock)
    first = await service.propose_rule(session, clock, MAKER, proposal(runtime, "3"))
    assert first.version == 1 and first.status == "proposed"
    assert first.params_json == '{"max_cnt": "3"}'  # only the kind's limits are kept
    assert await repository.in_force(session, today) == []
    first_id = first.id

    with pytest.raises(SelfApprovalRefused):
        await service.decide_rule(session, clock, MAKER, first_id, approve=True)
    await session.rollback()
    with pytest.raises(RuleRoleNotAllowed):
        await service.decide_rule(session, clock, OTHER_CLERK, first_id, approve=True)
    await session.rollback()
    await service.decide_rule(session, clock, CHECKER, first_id, approve=True)
    with pytest.raises(RuleDecided):
        await service.decide_rule(session, clock, CHECKER, first_id, approve=False)
    await session.rollback()
    [in_force] = await repository.in_force(session, today)
    assert (in_force.version, in_force.params["max_cnt"]) == (1, "3")

    # A change is the next version, in force from its own date; the old one holds until then.
    later = await service.propose_rule(session, clock, MAKER, proposal(runtime, "5", days_ahead=7))
    await service.decide_rule(session, clock, CHECKER, later.id, approve=True)
    assert [r.version for r in await repository.in_force(session, today)] == [1]
    week = today + timedelta(days=7)
    assert [r.version for r in await repository.in_force(session, week)] == [2]
    rejected = await service.propose_rule(session, clock, MAKER, proposal(runtime, "9"))
    await service.decide_rule(session, clock, CHECKER, rejected.id, approve=False)
    assert [r.version for r in await repository.in_force(session, today)] == [1]

    actions = (
        await session.scalars(
            select(AuditRecord.action)
            .where(AuditRecord.action.like("auditrule.%"))
            .order_by(AuditRecord.id)
        )
    ).all()
    assert actions == [
        "auditrule.propose",
        "auditrule.approve",
        "auditrule.propose",
        "auditrule.approve",
        "auditrule.propose",
        "auditrule.reject",
    ]


async def test_no_version_reaches_back_and_bad_limits_write_nothing(
    runtime: Runtime, session: AsyncSession
) -> None:
    with pytest.raises(InvalidRule, match="生效日期"):
        await service.propose_rule(
            session, runtime.clock, MAKER, proposal(runtime, "3", days_ahead=-1)
        )
    await session.rollback()
    with pytest.raises(InvalidRule, match="最大数量"):
        await service.propose_rule(session, runtime.clock, MAKER, proposal(runtime, "0"))
    await session.rollback()
    assert await repository.versions(session) == []


async def test_the_operator_loads_a_rule_book_once(runtime: Runtime, session: AsyncSession) -> None:
    book = [proposal(runtime, "3")]
    assert await service.load_rules(session, runtime.clock, book) == 1
    assert await service.load_rules(session, runtime.clock, book) == 0
    [rule] = await repository.in_force(session, china_today(runtime.clock))
    assert rule.rule_code == "QTY"
