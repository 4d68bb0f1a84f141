"""Queries of the detail audit: rule versions, the rules in force, the person's dispensing at
other institutions, and the checks with their findings. Never commits."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.auditrules.domain import Dispense, Finding, Rule, RuleVersion, rules_in_force
from yibao.auditrules.tables import AuditCheck, AuditFinding, AuditRuleVersion
from yibao.db.reference import reference_cache
from yibao.kernel.clock import to_china
from yibao.settlement.tables import Settlement, SettlementItem


def rule_of(row: AuditRuleVersion) -> Rule:
    return Rule(
        rule_code=row.rule_code,
        version=row.version,
        kind=row.kind,
        med_list_codg=row.med_list_codg,
        severity=row.severity,
        name=row.name,
        params=json.loads(row.params_json),
        version_id=row.id,
    )


async def versions(session: AsyncSession) -> list[AuditRuleVersion]:
    stmt = select(AuditRuleVersion).order_by(
        AuditRuleVersion.rule_code, AuditRuleVersion.version.desc()
    )
    return list((await session.execute(stmt)).scalars())


RULES = "audit-rules"


async def in_force(session: AsyncSession, day: date) -> list[Rule]:
    """The rules in force on `day` (a region's rule book: a few hundred rows), kept a few seconds
    in the process like other reference data (db/reference.py): every 2206/2207 reads them."""
    cache = reference_cache(session)
    found, rules = cache.get(RULES, day)
    if found:
        return list(rules)
    stmt = select(AuditRuleVersion).where(
        AuditRuleVersion.status == "approved", AuditRuleVersion.effective_from <= day
    )
    rows = (await session.execute(stmt)).scalars()
    read = rules_in_force(
        (RuleVersion(rule_of(r), r.effective_from, True, r.enabled) for r in rows), day
    )
    cache.put(RULES, day, tuple(read))
    return read


def forget_rules(session: AsyncSession) -> None:
    """After a commit that approved a version: this process sees it at once, others within the
    cache's few seconds."""
    reference_cache(session).forget(RULES)


async def next_version(session: AsyncSession, rule_code: str) -> int:
    stmt = select(func.max(AuditRuleVersion.version)).where(AuditRuleVersion.rule_code == rule_code)
    latest = (await session.execute(stmt)).scalar_one_or_none()
    return (latest or 0) + 1


async def version_by_id(
    session: AsyncSession, version_id: int, *, lock: bool = False
) -> AuditRuleVersion | None:
    stmt = select(AuditRuleVersion).where(AuditRuleVersion.id == version_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def add(session: AsyncSession, row: AuditRuleVersion | AuditCheck | AuditFinding) -> None:
    session.add(row)
    await session.flush()


async def dispensed_elsewhere(
    session: AsyncSession,
    person_id: int,
    codes: Iterable[str],
    fixmedins_code: str,
    since: datetime,
) -> list[Dispense]:
    """The person's settled lines of these items at other institutions since `since` (keyed by
    the person: the settlements' person-and-time index)."""
    wanted = sorted(set(codes))
    if not wanted:
        return []
    stmt = (
        select(
            SettlementItem.med_list_codg,
            SettlementItem.cnt,
            Settlement.setl_time,
            Settlement.fixmedins_code,
        )
        .join(Settlement, Settlement.id == SettlementItem.settlement_id)
        .where(
            Settlement.person_id == person_id,
            Settlement.setl_time >= since,
            Settlement.status == "settled",
            Settlement.fixmedins_code != fixmedins_code,
            SettlementItem.med_list_codg.in_(wanted),
        )
    )
    return [
        Dispense(code, Decimal(cnt), to_china(when).date(), where)
        for code, cnt, when, where in (await session.execute(stmt)).all()
    ]


# How far back a repeat-supply rule looks: a year (a longer supply is refused by the supply-days
# rules anyway).
LOOKBACK = timedelta(days=366)


async def record_check(
    session: AsyncSession, check: AuditCheck, findings: Sequence[Finding], jr_ids: Sequence[str]
) -> list[AuditFinding]:
    session.add(check)
    await session.flush()
    rows = [
        AuditFinding(
            jr_id=jr_id,
            check_id=check.id,
            rule_version_id=f.rule_version_id,
            rule_code=f.rule_code,
            rule_version=f.rule_version,
            rule_name=f.rule_name,
            kind=f.kind,
            severity=f.severity,
            line_ids=json.dumps(list(f.line_ids), ensure_ascii=False),
            message=f.message,
            vola_amt_fen=f.amount_fen,
        )
        for f, jr_id in zip(findings, jr_ids, strict=True)
    ]
    session.add_all(rows)
    await session.flush()
    return rows


async def finding_of(
    session: AsyncSession, jr_id: str, fixmedins_code: str, *, lock: bool = False
) -> tuple[AuditFinding, AuditCheck] | None:
    stmt = (
        select(AuditFinding, AuditCheck)
        .join(AuditCheck, AuditCheck.id == AuditFinding.check_id)
        .where(AuditFinding.jr_id == jr_id, AuditCheck.fixmedins_code == fixmedins_code)
    )
    if lock:
        stmt = stmt.with_for_update(of=AuditFinding)
    row = (await session.execute(stmt)).first()
    return None if row is None else (row[0], row[1])


async def findings_of_settlement(session: AsyncSession, setl_id: str) -> list[AuditFinding]:
    stmt = (
        select(AuditFinding)
        .join(AuditCheck, AuditCheck.id == AuditFinding.check_id)
        .where(AuditCheck.setl_id == setl_id)
        .order_by(AuditFinding.id)
    )
    return list((await session.execute(stmt)).scalars())
