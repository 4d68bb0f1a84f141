"""对账: an institution compares its totals, then its lines, with yibao's; staff read the history.

The institution's use cases run inside the interface message's transaction (they keep the
reconciliation with the message's answer), so they do not commit; the staff reads commit their
audit record before showing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import repository as audit_repository
from yibao.kernel.actors import StaffActor
from yibao.kernel.clock import Clock, to_china
from yibao.kernel.errors import InvalidInput, NotFound
from yibao.kernel.money import Fen
from yibao.settlement.domain import Caller
from yibao.settlement.reconciliation import (
    CLEARING_CLASSES,
    INSURANCE_TYPES,
    DetailLine,
    DetailResult,
    Period,
    Totals,
    compare_details,
    compare_totals,
    describe_details,
    totals_of,
)
from yibao.settlement.repository import reconciling as repository
from yibao.settlement.repository.reconciling import DifferenceState, OurLines, Scope
from yibao.settlement.tables import Reconciliation


@dataclass(frozen=True, slots=True)
class Asked:
    """What the institution's message said: who sent it, the period and the scope."""

    msgid: str
    opter: str
    opter_name: str
    setl_optins: str
    begin: date
    end: date
    insutype: str | None
    clr_type: str | None
    where: str  # the message's field prefix, for errors


@dataclass(frozen=True, slots=True)
class TotalsAnswer:
    reconciliation_id: int
    matches: bool
    stmt_rslt: str
    description: str
    ours: Totals


@dataclass(frozen=True, slots=True)
class DetailsAnswer:
    reconciliation_id: int
    result: DetailResult
    description: str
    ours: OurLines
    confirmed: list[str]


def _scope(caller: Caller, asked: Asked) -> Scope:
    period = Period.of(asked.begin, asked.end, asked.where)
    if asked.insutype is not None and asked.insutype not in INSURANCE_TYPES:
        listed = "、".join(sorted(INSURANCE_TYPES))
        raise InvalidInput(f"{asked.where}.insutype 应为 {listed} 之一")
    if asked.clr_type is not None and asked.clr_type not in CLEARING_CLASSES:
        listed = "、".join(sorted(CLEARING_CLASSES))
        raise InvalidInput(f"{asked.where}.clr_type 应为 {listed} 之一（清算类别）")
    start, stop = period.bounds()
    return Scope(caller.fixmedins_code, start, stop, asked.insutype, asked.clr_type)


def _record(
    caller: Caller,
    asked: Asked,
    kind: str,
    theirs: Totals,
    ours: Totals,
    matches: bool,
    description: str,
    clock: Clock,
    *,
    their_acct: Fen | None,
    differences: int = 0,
) -> Reconciliation:
    return Reconciliation(
        fixmedins_code=caller.fixmedins_code,
        kind=kind,
        msgid=asked.msgid,
        opter=asked.opter[:30],
        opter_name=asked.opter_name[:50],
        setl_optins=asked.setl_optins[:20],
        insutype=asked.insutype,
        clr_type=asked.clr_type,
        begin_date=asked.begin,
        end_date=asked.end,
        their_cnt=theirs.count,
        their_medfee_fen=theirs.medfee_sumamt,
        their_fund_fen=theirs.fund_pay_sumamt,
        their_acct_fen=their_acct,
        our_cnt=ours.count,
        our_medfee_fen=ours.medfee_sumamt,
        our_fund_fen=ours.fund_pay_sumamt,
        our_acct_fen=ours.acct_pay,
        result="match" if matches else "mismatch",
        differences=differences,
        description=description[:500],
        created_at=clock.now(),
    )


async def reconcile_totals_in(
    session: AsyncSession, clock: Clock, caller: Caller, asked: Asked, theirs: Totals
) -> TotalsAnswer:
    """对总账: one aggregate query over the institution's settlements of the period."""
    ours = await repository.totals(session, _scope(caller, asked))
    result = compare_totals(theirs, ours)
    row = await repository.add_reconciliation(
        session,
        _record(
            caller, asked, "totals", theirs, ours, result.matches, result.description, clock,
            their_acct=theirs.acct_pay,
        ),
    )  # fmt: skip
    return TotalsAnswer(row.id, result.matches, result.stmt_rslt, result.description, ours)


async def reconcile_details_in(
    session: AsyncSession,
    clock: Clock,
    caller: Caller,
    asked: Asked,
    theirs: dict[str, DetailLine],
    *,
    sent: Totals,
) -> DetailsAnswer:
    """对明细账: `theirs` is the institution's detail file, `sent` the totals its message gave
    (which must be the file's). Lines an earlier detail reconciliation found only at yibao and
    this file lists with the same amounts are confirmed."""
    in_file = totals_of(theirs.values())
    for name, said, counted in (
        ("fixmedins_setl_cnt", sent.count, in_file.count),
        ("medfee_sumamt", sent.medfee_sumamt, in_file.medfee_sumamt),
        ("fund_pay_sumamt", sent.fund_pay_sumamt, in_file.fund_pay_sumamt),
    ):
        if said != counted:
            raise InvalidInput(f"{asked.where}.{name} 与明细文件不符（明细文件合计与报文应一致）")
    scope = _scope(caller, asked)
    waiting = await repository.awaiting_confirmation(session, caller.fixmedins_code)
    ours = await _our_lines(session, caller, scope, theirs, waiting)
    missing = [setl_id for setl_id in theirs if setl_id not in ours.lines]
    elsewhere = {
        setl_id: _why_not_counted(status)
        for setl_id, (status, _) in (
            await repository.not_counted(session, caller.fixmedins_code, missing)
        ).items()
    }
    result = compare_details(ours.lines, theirs, elsewhere)
    description = describe_details(result, len(theirs))
    row = await repository.add_reconciliation(
        session,
        _record(
            caller, asked, "details", sent, totals_of(ours.lines.values()),
            result.matches, description, clock, their_acct=None,
            differences=len(result.differences),
        ),
    )  # fmt: skip
    await repository.add_differences(session, row.id, result.differences)
    confirmed = [ours.our_line(setl_id) for setl_id in result.matched if setl_id in waiting]
    await repository.confirm(session, confirmed, caller.fixmedins_code, row.id, clock.now())
    return DetailsAnswer(
        row.id, result, description, ours, [line.line.setl_id for line in confirmed]
    )


async def _our_lines(
    session: AsyncSession,
    caller: Caller,
    scope: Scope,
    theirs: dict[str, DetailLine],
    waiting: set[str],
) -> OurLines:
    """The period's amounts in one value, then the visit, person and msgid of the lines the
    comparison will name (differing ones, and ones waiting for a confirmation)."""
    amounts = await repository.amounts(session, scope)
    named = [
        setl_id
        for setl_id, figures in amounts.items()
        if setl_id in waiting or setl_id not in theirs or theirs[setl_id].amounts() != figures
    ]
    details = await repository.made_by(session, caller.fixmedins_code, named)
    lines: dict[str, DetailLine] = {}
    for setl_id, (medfee, fund, acct) in amounts.items():
        _, mdtrt_id, psn_no, _ = details.get(setl_id, (0, "", "", ""))
        lines[setl_id] = DetailLine(setl_id, mdtrt_id, psn_no, medfee, fund, acct)
    made = {setl_id: (row_id, msgid) for setl_id, (row_id, _, _, msgid) in details.items()}
    return OurLines(lines, made)


def _why_not_counted(status: str) -> str:
    if status == "cancelled":
        return "医保已撤销这笔结算（结算撤销或冲正）"
    return "这笔结算不在本次对账的期间、险种或清算类别内"


async def attach_result_file_in(
    session: AsyncSession, reconciliation_id: int, file_qury_no: str
) -> None:
    row = await repository.reconciliation(session, reconciliation_id)
    if row is not None:
        row.file_qury_no = file_qury_no
        await session.flush()


# --- staff --------------------------------------------------------------------------------------


async def reconciliation_history(
    session: AsyncSession, fixmedins_code: str | None = None, limit: int = 200
) -> list[Reconciliation]:
    """Each institution's reconciliations, newest first: counts and sums, no one person's data."""
    return await repository.history(session, fixmedins_code or None, limit)


@dataclass(frozen=True, slots=True)
class ReconciliationView:
    reconciliation: Reconciliation
    differences: list[DifferenceState]


async def reconciliation_for_staff(
    session: AsyncSession, clock: Clock, staff: StaffActor, reconciliation_id: int
) -> ReconciliationView:
    """One reconciliation with its differing lines (psn_no, setl_id, amounts of many people),
    on the audit trail before it is shown."""
    row = await repository.reconciliation(session, reconciliation_id)
    if row is None:
        raise NotFound("没有这条对账记录")
    lines = await repository.differences(session, row.id, row.fixmedins_code, limit=1000)
    await audit_repository.record_staff_action(
        session,
        staff,
        "reconciliation.view",
        None,
        f"对账 #{row.id} {row.fixmedins_code} {to_china(row.created_at):%Y-%m-%d}",
        {"reconciliation_id": row.id, "fixmedins_code": row.fixmedins_code, "lines": len(lines)},
        clock.now(),
    )
    await session.commit()
    return ReconciliationView(row, lines)
