"""Starting a run: at once by an operator (the CLI), or proposed by one staff member and approved
by another before any money moves (maker-checker)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import repository as audit_repository
from yibao.contributions.domain import month_of_index
from yibao.crediting import repository
from yibao.crediting.domain import InvalidRun, RunAlreadyOpen, RunState, UnknownRun, check_run_month
from yibao.crediting.source import files_of, fingerprint
from yibao.crediting.tables import CreditingRun
from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.domain import parse_admdvs
from yibao.kernel.actors import StaffActor
from yibao.kernel.clock import Clock, china_today
from yibao.kernel.errors import PermissionDenied


class SelfApproval(PermissionDenied):
    code = "crediting_self_approval"


class CreditingRoleRequired(PermissionDenied):
    code = "crediting_role_required"


# Who may put a month's file forward, and who may let money move (a different person).
PROPOSE_ROLES = frozenset({"clerk", "admin"})
APPROVE_ROLES = frozenset({"admin"})


def staff_key(staff: StaffActor) -> str:
    return f"staff:{staff.staff_id}"


def _check_role(staff: StaffActor, roles: frozenset[str], what: str) -> None:
    if not staff.roles & roles:
        raise CreditingRoleRequired(f"您的岗位无权{what}")


async def propose_run(
    session: AsyncSession,
    clock: Clock,
    staff: StaffActor,
    *,
    month: str,
    source: Path,
    region: str | None,
) -> CreditingRun:
    """A staff member puts the month's file forward; nothing moves until another approves."""
    _check_role(staff, PROPOSE_ROLES, "提交划账")
    run = await _start(
        session, clock, month=month, source=source, region=region, by=staff_key(staff),
        approved=False,
    )  # fmt: skip
    await _audit(session, clock, staff, "crediting.propose", run)
    return run


async def approve_proposed_run(
    session: AsyncSession, clock: Clock, staff: StaffActor, run_id: int
) -> CreditingRun:
    _check_role(staff, APPROVE_ROLES, "复核划账")
    run = await _approve(session, clock, run_id, staff_key(staff))
    await _audit(session, clock, staff, "crediting.approve", run)
    return run


async def reject_proposed_run(
    session: AsyncSession, clock: Clock, staff: StaffActor, run_id: int, note: str
) -> CreditingRun:
    _check_role(staff, APPROVE_ROLES, "复核划账")
    run = await _reject(session, clock, run_id, staff_key(staff), note)
    await _audit(session, clock, staff, "crediting.reject", run)
    return run


async def _audit(
    session: AsyncSession, clock: Clock, staff: StaffActor, action: str, run: CreditingRun
) -> None:
    """On the trail, in the same transaction as the run's change (no person's data is read)."""
    await audit_repository.record_staff_action(
        session, staff, action, None, f"划账 #{run.id} {run.month}",
        {"run_id": run.id, "month": run.month, "region": run.region}, clock.now(),
    )  # fmt: skip
    await session.commit()


def current_month(clock: Clock) -> str:
    today = china_today(clock)
    return month_of_index(today.year * 12 + today.month - 1)


async def start_run(
    session: AsyncSession,
    clock: Clock,
    *,
    month: str,
    source: Path,
    region: str | None,
    by: str,
    approved: bool,
) -> CreditingRun:
    """A new run of `month` over `source`; `approved`: open it now (an operator's own run),
    else it waits for a second person's approval."""
    run = await _start(
        session, clock, month=month, source=source, region=region, by=by, approved=approved
    )
    await session.commit()
    return run


async def _start(
    session: AsyncSession,
    clock: Clock,
    *,
    month: str,
    source: Path,
    region: str | None,
    by: str,
    approved: bool,
) -> CreditingRun:
    month = check_run_month(month, current_month(clock))
    if region is not None:
        region = parse_admdvs(region)
        await enrolment_repository.region(session, region)
    source, files = _files(source)
    now = clock.now()
    run = CreditingRun(
        month=month,
        region=region,
        source=str(source),
        files=fingerprint(files),
        state=RunState.PROPOSED.value,
        open_slot=None,
        proposed_by=by,
        created_at=now,
        updated_at=now,
    )
    if approved:
        await _refuse_if_open(session)
        run.state = RunState.LOADING.value
        run.open_slot = 1
        run.approved_by = None
    session.add(run)
    await _flush_or_open(session)
    return run


def _files(source: Path) -> tuple[Path, list[Path]]:
    resolved = source.resolve()
    return resolved, files_of(resolved)


async def approve_run(session: AsyncSession, clock: Clock, run_id: int, by: str) -> CreditingRun:
    run = await _approve(session, clock, run_id, by)
    await session.commit()
    return run


async def _approve(session: AsyncSession, clock: Clock, run_id: int, by: str) -> CreditingRun:
    run = await _proposed(session, run_id)
    if run.proposed_by == by:
        raise SelfApproval("提交人不能复核自己提交的划账，请由另一位经办人员复核")
    await _refuse_if_open(session)
    run.state = RunState.LOADING.value
    run.open_slot = 1
    run.approved_by = by
    run.updated_at = clock.now()
    await _flush_or_open(session)
    return run


async def reject_run(
    session: AsyncSession, clock: Clock, run_id: int, by: str, note: str
) -> CreditingRun:
    run = await _reject(session, clock, run_id, by, note)
    await session.commit()
    return run


async def _reject(
    session: AsyncSession, clock: Clock, run_id: int, by: str, note: str
) -> CreditingRun:
    run = await _proposed(session, run_id)
    if run.proposed_by == by:
        raise SelfApproval("提交人不能复核自己提交的划账，请由另一位经办人员复核")
    run.state = RunState.REJECTED.value
    run.approved_by = by
    run.note = note.strip()[:500] or None
    run.updated_at = clock.now()
    run.finished_at = clock.now()
    await session.flush()
    return run


async def open_run(session: AsyncSession) -> CreditingRun | None:
    return await repository.open_run(session)


async def find_run(session: AsyncSession, run_id: int) -> CreditingRun:
    run = await repository.run(session, run_id)
    if run is None:
        raise UnknownRun(f"没有编号为 {run_id} 的划账")
    return run


async def recent_runs(session: AsyncSession, limit: int = 30) -> list[CreditingRun]:
    return await repository.recent_runs(session, limit)


async def _proposed(session: AsyncSession, run_id: int) -> CreditingRun:
    run = await repository.run(session, run_id, lock=True)
    if run is None:
        raise UnknownRun(f"没有编号为 {run_id} 的划账")
    if run.state != RunState.PROPOSED:
        raise InvalidRun(f"划账 #{run_id} 不在待复核状态")
    return run


async def _refuse_if_open(session: AsyncSession) -> None:
    found = await repository.open_run(session)
    if found is not None:
        raise RunAlreadyOpen(
            f"划账 #{found.id}（{found.month}）尚未完成：先用 yibao crediting resume {found.id} 续跑"
        )


async def _flush_or_open(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:  # another run opened meanwhile (UNIQUE open_slot)
        await session.rollback()
        raise RunAlreadyOpen("另一次划账刚刚开始，请待其完成后再试") from exc


REPORT_ROLES = PROPOSE_ROLES | APPROVE_ROLES


async def report_for_staff(
    session: AsyncSession, clock: Clock, staff: StaffActor, run_id: int
) -> CreditingRun:
    """The run whose refused lines a staff member downloads (masked ID numbers), on the trail."""
    _check_role(staff, REPORT_ROLES, "下载划账明细")
    run = await find_run(session, run_id)
    await _audit(session, clock, staff, "crediting.report", run)
    return run
