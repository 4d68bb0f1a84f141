"""The audit a bill goes through, shared by 3101/3102 (this feature's service) and by settlement's
2206/2207 and 2101/2102 (which may use this module, not this feature's service): the rules in
force today, the person's dispensing at other institutions, the institution's level; evaluate;
keep the check and its findings when asked. Reads and flushes, never commits."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.auditrules import repository
from yibao.auditrules.domain import Bill, Outcome, RuleKind, evaluate
from yibao.auditrules.tables import AuditCheck, AuditFinding
from yibao.kernel.clock import to_china
from yibao.settlement import repository as settlement_repository


@dataclass
class Screened:
    outcome: Outcome
    rules_applied: int


async def hosp_lv(session: AsyncSession, fixmedins_code: str) -> str | None:
    institution = await settlement_repository.institution_by_code(session, fixmedins_code)
    return None if institution is None else institution.level


async def screen(
    session: AsyncSession,
    now: datetime,
    person_id: int | None,
    bill: Bill,
    diagnoses: Callable[[], Awaitable[tuple[str, ...]]] | None = None,
) -> Screened:
    """`bill` without history or level: what the person was dispensed elsewhere, the
    institution's level and (through `diagnoses`) the visit's diagnoses are read here only when
    a rule in force needs them, so a bill no rule names costs one cached read."""
    rules = await repository.in_force(session, to_china(now).date())
    if not rules:
        return Screened(Outcome(), 0)
    if any(r.kind == RuleKind.HOSP_LV for r in rules):
        bill = replace(bill, hosp_lv=await hosp_lv(session, bill.fixmedins_code))
    billed = {line.med_list_codg for line in bill.lines}
    if diagnoses is not None and any(
        r.kind == RuleKind.CLASS_B_DIAGNOSIS and r.med_list_codg in billed for r in rules
    ):
        bill = replace(bill, diagnoses=await diagnoses())
    repeat = {r.med_list_codg for r in rules if r.kind == RuleKind.REPEAT_SUPPLY} & billed
    if repeat and person_id is not None:
        history = await repository.dispensed_elsewhere(
            session, person_id, repeat, bill.fixmedins_code, now - repository.LOOKBACK
        )
        bill = replace(bill, history=tuple(history))
    return Screened(evaluate(rules, bill), len(rules))


def new_task_id(now: datetime) -> str:
    return f"T{to_china(now):%Y%m%d%H%M%S}{secrets.randbelow(10**15):015d}"


async def keep(
    session: AsyncSession,
    now: datetime,
    screened: Screened,
    *,
    trig: str,
    bill: Bill,
    msgid: str,
    setl_id: str | None = None,
) -> tuple[AuditCheck, Sequence[AuditFinding]]:
    """The check as it was told: its findings with the rule version of each (jr_id: the task id
    and the finding's number)."""
    task_id = new_task_id(now)
    check = AuditCheck(
        task_id=task_id,
        trig=trig,
        fixmedins_code=bill.fixmedins_code,
        psn_no=bill.psn_no,
        mdtrt_id=bill.mdtrt_id,
        setl_id=setl_id,
        msgid=msgid,
        rules_applied=screened.rules_applied,
        checked_at=now,
    )
    findings = screened.outcome.findings
    jr_ids = [f"{task_id}{n:03d}" for n in range(1, len(findings) + 1)]
    rows = await repository.record_check(session, check, findings, jr_ids)
    return check, rows
