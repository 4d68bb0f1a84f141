"""Dispute use cases: "这笔不是我" on a record, a look-up the person does not recognise,
freezing one's own account at once, and staff resolving the case."""

from __future__ import annotations

import json

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import repository as audit_repository
from yibao.audit.domain import ACTION_NAMES
from yibao.claims import repository
from yibao.claims.domain import (
    DISPUTE_OUTCOMES,
    DISPUTE_RESOLVE_ROLES,
    DisputeKind,
    DisputeNotFound,
    DisputeStatus,
    InvalidDispute,
    StaffActor,
    check_roles,
    check_statement,
)
from yibao.claims.service.effects import notify
from yibao.claims.tables import Dispute
from yibao.kernel.clock import Clock
from yibao.kernel.money import format_yuan
from yibao.ledger import repository as ledger_repository
from yibao.ledger.domain import ENTRY_KIND_NAMES, AccountStatus, EntryKind, NoPersonalAccount
from yibao.settlement import repository as settlement_repository


async def _freeze_own(
    session: AsyncSession, person_id: int, dispute: Dispute, clock: Clock
) -> None:
    account = await ledger_repository.account_for_person(session, person_id, lock=True)
    if account is None:
        raise NoPersonalAccount("您没有职工医保个人账户，无需冻结")
    if account.status != AccountStatus.FROZEN:
        await ledger_repository.freeze(
            session, account, f"本人申请冻结（争议编号 {dispute.id}）", clock.now()
        )
    dispute.froze_account = True


async def dispute_entry(
    session: AsyncSession,
    clock: Clock,
    *,
    person_id: int,
    entry_id: int,
    statement: str,
    freeze: bool,
) -> Dispute:
    """这笔不是我: open a case on one of the person's own records (once per record)."""
    statement = check_statement(statement)
    entry = await entry_to_dispute(session, person_id, entry_id)
    if entry.kind == EntryKind.CONTRIBUTION_CREDIT:
        raise InvalidDispute("缴费划入记录如有疑问，请联系单位或医保经办机构核对")
    dispute = await repository.open_dispute_for(session, person_id, ledger_entry_id=entry.id)
    now = clock.now()
    if dispute is None:
        details: dict[str, object] = {
            "kind": entry.kind,
            "kind_name": ENTRY_KIND_NAMES.get(EntryKind(entry.kind), entry.kind),
            "amount": format_yuan(entry.amount_fen),
            "counterparty": entry.counterparty,
            "counterparty_code": entry.counterparty_code,
            "at": entry.created_at.isoformat(),
            "source_type": entry.source_type,
            "source_id": entry.source_id,
        }
        details.update(await _settlement_details(session, entry))
        dispute = Dispute(
            person_id=person_id,
            kind=DisputeKind.CONSUMPTION.value,
            ledger_entry_id=entry.id,
            details_json=json.dumps(details, ensure_ascii=False),
            statement=statement,
            froze_account=False,
            status=DisputeStatus.OPEN.value,
            created_at=now,
        )
        await repository.add(session, dispute)
        await notify(
            session,
            person_id,
            f"dispute:{dispute.id}:opened",
            "争议已受理",
            f"您对 {entry.counterparty} {format_yuan(entry.amount_fen)} 元的记录提出的疑问已受理，"
            "经办机构将尽快核实",
            now,
        )
    if freeze:
        await _freeze_own(session, person_id, dispute, clock)
    await session.commit()
    return dispute


async def _settlement_details(
    session: AsyncSession, entry: ledger_repository.LedgerEntry
) -> dict[str, object]:
    """The settlement behind a 消费 record, as staff need it to examine the case."""
    if entry.source_type != "settlement" or not entry.source_id:
        return {}
    found = await settlement_repository.settlement_by_setl_id(session, entry.source_id)
    if found is None:
        return {}
    return {
        "setl_id": found.setl_id,
        "mdtrt_id": found.mdtrt_id,
        "fixmedins_code": found.fixmedins_code,
        "fixmedins_name": found.fixmedins_name,
        "med_type": found.med_type,
        "setl_time": found.setl_time.isoformat(),
        "medfee_sumamt": format_yuan(found.medfee_sumamt_fen),
        "hifp_pay": format_yuan(found.hifp_pay_fen),
        "acct_pay": format_yuan(found.acct_pay_fen),
        "acct_mulaid_pay": format_yuan(found.acct_mulaid_pay_fen),
        "psn_cash_pay": format_yuan(found.psn_cash_pay_fen),
        "settlement_status": found.status,
    }


async def dispute_lookup(
    session: AsyncSession, clock: Clock, *, person_id: int, audit_record_id: int, statement: str
) -> Dispute:
    """A line of 查询记录 the person does not recognise."""
    statement = check_statement(statement)
    record = await audit_repository.lookup_of(session, person_id, audit_record_id)
    if record is None:
        raise DisputeNotFound("没有找到这条查询记录")
    dispute = await repository.open_dispute_for(session, person_id, audit_record_id=record.id)
    if dispute is not None:
        return dispute
    now = clock.now()
    dispute = Dispute(
        person_id=person_id,
        kind=DisputeKind.LOOKUP.value,
        audit_record_id=record.id,
        details_json=json.dumps(
            {
                "action": record.action,
                "action_name": ACTION_NAMES.get(record.action, record.action),
                "office": record.office,
                "role": record.role,
                "reason": record.reason,
                "at": record.occurred_at.isoformat(),
                "seq": record.seq,
            },
            ensure_ascii=False,
        ),
        statement=statement,
        froze_account=False,
        status=DisputeStatus.OPEN.value,
        created_at=now,
    )
    await repository.add(session, dispute)
    await notify(
        session,
        person_id,
        f"dispute:{dispute.id}:opened",
        "争议已受理",
        f"您对 {record.office} 的一次查询提出的疑问已受理，经办机构将尽快核实",
        now,
    )
    await session.commit()
    return dispute


async def dispute_for_staff(
    session: AsyncSession, clock: Clock, staff: StaffActor, dispute_id: int
) -> Dispute:
    dispute = await repository.dispute_by_id(session, dispute_id)
    if dispute is None:
        raise DisputeNotFound(f"没有编号为 {dispute_id} 的争议")
    await audit_repository.record_staff_action(
        session,
        staff,
        "dispute.view",
        dispute.person_id,
        "dispute",
        {"dispute_id": dispute.id},
        clock.now(),
    )
    await session.commit()
    return dispute


async def resolve_dispute(
    session: AsyncSession,
    clock: Clock,
    staff: StaffActor,
    dispute_id: int,
    *,
    outcome: str,
    note: str,
) -> Dispute:
    check_roles(staff, DISPUTE_RESOLVE_ROLES, "办结争议")
    if outcome not in DISPUTE_OUTCOMES:
        raise InvalidDispute("请选择核实结果")
    note = note.strip()
    if len(note) < 2:
        raise InvalidDispute("请写明核实情况")
    dispute = await repository.dispute_by_id(session, dispute_id, lock=True)
    if dispute is None:
        raise DisputeNotFound(f"没有编号为 {dispute_id} 的争议")
    if dispute.status != DisputeStatus.OPEN:
        raise InvalidDispute("该争议已办结")
    now = clock.now()
    dispute.status = DisputeStatus.RESOLVED.value
    dispute.outcome = outcome
    dispute.resolution_note = note
    dispute.resolved_by_staff_id = staff.staff_id
    dispute.resolved_by_name = staff.name
    dispute.resolved_at = now
    await audit_repository.record_staff_action(
        session,
        staff,
        "dispute.resolve",
        dispute.person_id,
        "dispute",
        {"dispute_id": dispute.id, "outcome": outcome},
        now,
    )
    unfreeze_hint = "；账户冻结需由经办机构核实后解除" if dispute.froze_account else ""
    await notify(
        session,
        dispute.person_id,
        f"dispute:{dispute.id}:resolved",
        "争议已办结",
        f"您提出的争议已办结：{DISPUTE_OUTCOMES[outcome]}{unfreeze_hint}",
        now,
    )
    await session.commit()
    return dispute


async def disputes_for_person(session: AsyncSession, person_id: int) -> list[Dispute]:
    return await repository.disputes_of(session, person_id)


async def dispute_queue(session: AsyncSession, staff: StaffActor) -> list[Dispute]:
    check_roles(staff, DISPUTE_RESOLVE_ROLES | {"clerk"}, "查看争议")
    return await repository.dispute_queue(session)


async def entry_to_dispute(
    session: AsyncSession, person_id: int, entry_id: int
) -> ledger_repository.LedgerEntry:
    """The record the person is about to dispute, only from their own account."""
    account = await ledger_repository.account_for_person(session, person_id)
    entry = await ledger_repository.entry_by_id(session, entry_id)
    if account is None or entry is None or entry.account_id != account.id:
        raise DisputeNotFound("没有找到这条记录")
    return entry
