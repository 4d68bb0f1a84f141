"""Use cases of the detail audit: staff keep the rule book (one proposes a version, another
approves it: maker-checker, each step in the audit trail); institutions ask for an audit of a
bill before (3101) or during (3102) settlement and say what they did about a warning (3103).

The `*_in` functions work on the interface's session without committing (the interface commits
them with the answer to the message); the staff use cases commit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import repository as audit_repository
from yibao.audit.domain import ActorType
from yibao.auditrules import repository, screening
from yibao.auditrules.domain import (
    APPROVE_ROLES,
    PROPOSE_ROLES,
    Bill,
    InvalidRule,
    Line,
    RuleDecided,
    RuleNotFound,
    UnknownFinding,
    check_checker,
    check_disposal,
    check_roles,
    check_rule,
)
from yibao.auditrules.tables import AuditFinding, AuditRuleVersion
from yibao.enrolment import repository as enrolment_repository
from yibao.kernel.actors import StaffActor
from yibao.kernel.clock import Clock, china_today, to_china
from yibao.settlement import repository as settlement_repository
from yibao.settlement.domain import Caller
from yibao.settlement.repository import visit_info

OPERATOR = "命令行操作员"


@dataclass(frozen=True, slots=True)
class Proposal:
    rule_code: str
    kind: str
    med_list_codg: str
    severity: str
    name: str
    params: dict[str, str]
    effective_from: date
    reason: str
    enabled: bool = True


async def _trail(
    session: AsyncSession,
    clock: Clock,
    staff: StaffActor | None,
    action: str,
    row: AuditRuleVersion,
) -> None:
    detail = {
        "rule_code": row.rule_code,
        "version": row.version,
        "kind": row.kind,
        "med_list_codg": row.med_list_codg,
        "severity": row.severity,
        "enabled": row.enabled,
        "effective_from": row.effective_from.isoformat(),
        "params": json.loads(row.params_json),
    }
    reason = f"{row.rule_code} v{row.version} {row.name}"
    if staff is not None:
        await audit_repository.record_staff_action(
            session, staff, action, None, reason, detail, clock.now()
        )
        return
    await audit_repository.record(
        session,
        actor_type=ActorType.SYSTEM.value,
        actor_id="cli",
        actor_name=OPERATOR,
        role="operator",
        office="",
        action=action,
        subject_person_id=None,
        reason=reason,
        detail=detail,
        now=clock.now(),
    )


async def _new_version(
    session: AsyncSession, clock: Clock, proposal: Proposal, *, by_id: int | None, by_name: str
) -> AuditRuleVersion:
    params = check_rule(
        proposal.rule_code,
        proposal.kind,
        proposal.med_list_codg,
        proposal.severity,
        proposal.name,
        proposal.params,
    )
    if len(proposal.reason) > 500:
        raise InvalidRule("修改原因最多500字")
    if proposal.effective_from < china_today(clock):
        # A past settlement keeps the rules it was checked by: no version may reach back.
        raise InvalidRule("生效日期不能早于今天")
    row = AuditRuleVersion(
        rule_code=proposal.rule_code,
        version=await repository.next_version(session, proposal.rule_code),
        kind=proposal.kind,
        med_list_codg=proposal.med_list_codg,
        severity=proposal.severity,
        name=proposal.name.strip(),
        params_json=json.dumps(params, ensure_ascii=False, sort_keys=True),
        enabled=proposal.enabled,
        effective_from=proposal.effective_from,
        reason=proposal.reason.strip(),
        status="proposed",
        proposed_by_staff_id=by_id,
        proposed_by_name=by_name,
        proposed_at=clock.now(),
    )
    await repository.add(session, row)
    return row


async def list_versions(session: AsyncSession) -> list[AuditRuleVersion]:
    return await repository.versions(session)


async def propose_rule(
    session: AsyncSession, clock: Clock, staff: StaffActor, proposal: Proposal
) -> AuditRuleVersion:
    check_roles(staff.roles, PROPOSE_ROLES, "提交审核规则")
    row = await _new_version(session, clock, proposal, by_id=staff.staff_id, by_name=staff.name)
    await _trail(session, clock, staff, "auditrule.propose", row)
    await session.commit()
    return row


async def _pending(session: AsyncSession, version_id: int) -> AuditRuleVersion:
    row = await repository.version_by_id(session, version_id, lock=True)
    if row is None:
        raise RuleNotFound("没有该审核规则版本")
    if row.status != "proposed":
        raise RuleDecided("该审核规则版本已复核")
    return row


async def decide_rule(
    session: AsyncSession, clock: Clock, staff: StaffActor, version_id: int, *, approve: bool
) -> AuditRuleVersion:
    check_roles(staff.roles, APPROVE_ROLES, "复核审核规则")
    row = await _pending(session, version_id)
    check_checker(row.proposed_by_staff_id, staff.staff_id)
    if approve and row.effective_from < china_today(clock):
        raise InvalidRule("生效日期已过，请退回后重新提交")
    row.status = "approved" if approve else "rejected"
    row.decided_by_staff_id = staff.staff_id
    row.decided_by_name = staff.name
    row.decided_at = clock.now()
    await _trail(session, clock, staff, "auditrule.approve" if approve else "auditrule.reject", row)
    await session.commit()
    repository.forget_rules(session)
    return row


async def load_rules(session: AsyncSession, clock: Clock, proposals: list[Proposal]) -> int:
    """An operator loads a rule book (the demo, a region's first rules) approved at once, each
    version in the audit trail; rules already holding a version are left as they are."""
    loaded = 0
    for proposal in proposals:
        if await repository.next_version(session, proposal.rule_code) > 1:
            continue
        row = await _new_version(session, clock, proposal, by_id=None, by_name=OPERATOR)
        row.status = "approved"
        row.decided_by_name = OPERATOR
        row.decided_at = clock.now()
        await _trail(session, clock, None, "auditrule.approve", row)
        loaded += 1
    await session.commit()
    repository.forget_rules(session)
    return loaded


# --- 3101 / 3102 / 3103 ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Order:
    rx_id: str
    hilist_code: str
    hilist_name: str
    cnt: Decimal
    sumamt_fen: int
    day: date | None


@dataclass(frozen=True, slots=True)
class Encounter:
    mdtrt_id: str
    insutype: str | None
    diagnoses: tuple[str, ...]
    orders: tuple[Order, ...]


@dataclass(frozen=True, slots=True)
class Patient:
    patn_id: str  # the psn_no (ours: the national platform's own person id)
    encounters: tuple[Encounter, ...]


async def _uploaded(
    session: AsyncSession, institution: Caller, person_id: int, sent: Encounter
) -> Encounter:
    """事中 (3102) without orders: the fees this institution uploaded (2204) to its visit
    `mdtrt_id`, with the visit's diagnoses (2203) when the message sends none."""
    visit = await settlement_repository.visit_by_mdtrt_id(session, sent.mdtrt_id)
    if (
        visit is None
        or visit.fixmedins_code != institution.fixmedins_code
        or visit.person_id != person_id
    ):
        raise UnknownFinding(
            f"就诊 mdtrt_id={sent.mdtrt_id} 没有 fsi_order_dtos，也不是本机构该参保人的就诊"
        )
    orders = tuple(
        Order(
            rx_id=fee.feedetl_sn,
            hilist_code=fee.med_list_codg,
            hilist_name="",
            cnt=Decimal(fee.cnt),
            sumamt_fen=fee.det_item_fee_sumamt_fen,
            day=date.fromisoformat(fee.fee_ocur_time[:10]) if fee.fee_ocur_time else None,
        )
        for fee in await settlement_repository.fees_of(session, visit.id)
    )
    diagnoses = sent.diagnoses or tuple(
        d.diag_code for d in await visit_info.diagnoses_of(session, visit.id) if d.vali_flag != "0"
    )
    return Encounter(sent.mdtrt_id, sent.insutype or visit.insutype, diagnoses, orders)


@dataclass(frozen=True, slots=True)
class Told:
    """A finding as 3101/3102 answers it."""

    row: AuditFinding
    task_id: str
    patn_id: str
    mdtrt_id: str


async def analyse_in(
    session: AsyncSession,
    clock: Clock,
    institution: Caller,
    patients: list[Patient],
    *,
    trig: str,
    msgid: str,
) -> list[Told]:
    """3101 (trig "before" settlement) and 3102 ("during"): each encounter's orders
    through the rules in force; the findings are kept for 3103."""
    now = clock.now()
    today = to_china(now).date()
    told: list[Told] = []
    for patient in patients:
        found = await enrolment_repository.insured_with_cover(session, patient.patn_id)
        if found is None:
            raise UnknownFinding(
                f"未找到参保人 patn_id={patient.patn_id}（patn_id 应为人员编号 psn_no）"
            )
        person, covers = found
        basic = [c.insutype for c in covers if c.insutype in {"310", "390"}]
        for sent in patient.encounters:
            encounter = (
                sent if sent.orders else await _uploaded(session, institution, person.id, sent)
            )
            codes = {o.hilist_code for o in encounter.orders}
            catalogue = await settlement_repository.catalogue_rules(session, codes, today)
            lines = []
            for order in encounter.orders:
                item = catalogue.get(order.hilist_code)
                lines.append(
                    Line(
                        order.rx_id,
                        order.hilist_code,
                        order.hilist_name or (item.name if item else "目录外项目"),
                        order.cnt,
                        order.sumamt_fen,
                        order.day or today,
                        item.chrgitm_lv.value if item else None,
                    )
                )
            bill = Bill(
                psn_no=person.psn_no,
                mdtrt_id=encounter.mdtrt_id,
                gender=person.gender,
                birth_date=person.birth_date,
                insutype=encounter.insutype or (basic[0] if basic else ""),
                fixmedins_code=institution.fixmedins_code,
                hosp_lv=None,
                day=today,
                diagnoses=encounter.diagnoses,
                lines=tuple(lines),
            )
            screened = await screening.screen(session, now, person.id, bill)
            check, rows = await screening.keep(
                session, now, screened, trig=trig, bill=bill, msgid=msgid
            )
            told.extend(
                Told(row, check.task_id, patient.patn_id, encounter.mdtrt_id) for row in rows
            )
    return told


@dataclass(frozen=True, slots=True)
class Disposal:
    warn_rslt_id: str
    dspo_way: str
    dspo_way_rea: str | None


async def record_disposals_in(
    session: AsyncSession, clock: Clock, institution: Caller, disposals: list[Disposal]
) -> list[AuditFinding]:
    """3103: what the institution did about each finding (its own only); a later 3103 of the
    same finding replaces the earlier answer."""
    done = []
    for disposal in disposals:
        found = await repository.finding_of(
            session, disposal.warn_rslt_id, institution.fixmedins_code, lock=True
        )
        if found is None:
            raise UnknownFinding(
                f"没有本机构的违规提示 warn_rslt_id={disposal.warn_rslt_id}（应为 3101/3102 返回的 jr_id）"
            )
        finding, _ = found
        check_disposal(disposal.dspo_way, disposal.dspo_way_rea, finding.severity)
        finding.dspo_way = disposal.dspo_way
        finding.dspo_way_rea = (disposal.dspo_way_rea or "").strip() or None
        finding.dspo_at = clock.now()
        done.append(finding)
    return done


async def findings_of_settlement(session: AsyncSession, setl_id: str) -> list[AuditFinding]:
    return await repository.findings_of_settlement(session, setl_id)
