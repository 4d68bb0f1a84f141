"""The year end (年度结转): interest on personal accounts where a region's rules pay it, as a
durable job like the monthly run: started at once by an operator (the CLI) or proposed by one
staff member and approved by another; carried on in batches, each committed with its cursor (the
last account id done), so a run killed anywhere goes on from its last commit. The ledger's
unique key `interest:<year>:<account>` credits each account's interest once whatever happens."""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import repository as audit_repository
from yibao.crediting.domain import RunAlreadyOpen, UnknownRun
from yibao.crediting.repository import year_end as repository
from yibao.crediting.service.executing import CREDIT_BATCH, enqueue_notices
from yibao.crediting.service.runs import (
    APPROVE_ROLES,
    PROPOSE_ROLES,
    SelfApproval,
    _check_role,
    staff_key,
)
from yibao.crediting.tables import InterestRate, YearEndRun, YearEndTotal
from yibao.crediting.year_end import (
    InvalidYearEnd,
    YearEndState,
    check_year,
    format_rate,
    interest_key,
    parse_rate,
    year_cutoff,
    year_interest,
)
from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.domain import parse_admdvs
from yibao.kernel.actors import StaffActor
from yibao.kernel.clock import Clock, china_today
from yibao.kernel.money import format_yuan
from yibao.ledger import bulk as ledger_bulk
from yibao.ledger.domain import EntryKind
from yibao.ledger.repository import Posting
from yibao.notifications import bulk as notifications_bulk
from yibao.notifications.domain import Channel

YearEndProgress = Callable[[YearEndRun], None]


# -- rates -----------------------------------------------------------------------------------


async def set_interest_rate(
    session: AsyncSession, clock: Clock, admdvs: str, rate: str | None, *, by: str
) -> int | None:
    """Set a region's yearly rate ("1.5%", "150bp"), or remove it (None: the region pays none)."""
    admdvs = parse_admdvs(admdvs)
    await enrolment_repository.region(session, admdvs)
    rate_bp = None if rate is None else parse_rate(rate)
    await repository.set_rate(session, admdvs, rate_bp, by, clock.now())
    await session.commit()
    return rate_bp


async def interest_rates(session: AsyncSession) -> list[InterestRate]:
    return await repository.rates(session)


# -- starting --------------------------------------------------------------------------------


async def start_year_end(
    session: AsyncSession, clock: Clock, year: int, *, by: str, approved: bool
) -> YearEndRun:
    """A year-end run of `year`; `approved`: open it now (an operator's own run)."""
    run = await _start(session, clock, year, by=by, approved=approved)
    await session.commit()
    return run


async def propose_year_end(
    session: AsyncSession, clock: Clock, staff: StaffActor, year: int
) -> YearEndRun:
    _check_role(staff, PROPOSE_ROLES, "提交年度结转")
    run = await _start(session, clock, year, by=staff_key(staff), approved=False)
    await _audit(session, clock, staff, "crediting.year_end.propose", run)
    return run


async def approve_year_end(
    session: AsyncSession, clock: Clock, staff: StaffActor, run_id: int
) -> YearEndRun:
    _check_role(staff, APPROVE_ROLES, "复核年度结转")
    run = await _proposed(session, run_id, staff_key(staff))
    await _open(session, clock, run)
    run.approved_by = staff_key(staff)
    await _flush_or_open(session)
    await _audit(session, clock, staff, "crediting.year_end.approve", run)
    return run


async def reject_year_end(
    session: AsyncSession, clock: Clock, staff: StaffActor, run_id: int, note: str
) -> YearEndRun:
    _check_role(staff, APPROVE_ROLES, "复核年度结转")
    run = await _proposed(session, run_id, staff_key(staff))
    run.state = YearEndState.REJECTED.value
    run.approved_by = staff_key(staff)
    run.note = note.strip()[:500] or None
    run.updated_at = run.finished_at = clock.now()
    await session.flush()
    await _audit(session, clock, staff, "crediting.year_end.reject", run)
    return run


async def _start(
    session: AsyncSession, clock: Clock, year: int, *, by: str, approved: bool
) -> YearEndRun:
    check_year(year, china_today(clock).year)
    now = clock.now()
    run = YearEndRun(
        year=year,
        state=YearEndState.PROPOSED.value,
        open_slot=None,
        rates="{}",
        account_cursor=0,
        accounts_done=0,
        credited_count=0,
        credited_fen=0,
        already_count=0,
        proposed_by=by,
        created_at=now,
        updated_at=now,
    )
    session.add(run)
    if approved:
        await _open(session, clock, run)
    await _flush_or_open(session)
    return run


async def _open(session: AsyncSession, clock: Clock, run: YearEndRun) -> None:
    """Open the run: the rates as they stand now are the run's for its whole life."""
    found = await repository.open_run(session)
    if found is not None and found.id != run.id:
        raise RunAlreadyOpen(
            f"年度结转 #{found.id}（{found.year}）尚未完成：先用 yibao crediting close-year"
            f" {found.year} 续跑"
        )
    rates = {r.admdvs: r.rate_bp for r in await repository.rates(session)}
    run.rates = json.dumps(rates, sort_keys=True)
    run.state = YearEndState.CREDITING.value
    run.open_slot = 1
    run.updated_at = clock.now()
    await _flush_or_open(session)
    await repository.add_totals(session, run.id, rates)


async def _flush_or_open(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:  # another year-end opened meanwhile (UNIQUE open_slot)
        await session.rollback()
        raise RunAlreadyOpen("另一次年度结转刚刚开始，请待其完成后再试") from exc


async def _proposed(session: AsyncSession, run_id: int, by: str) -> YearEndRun:
    run = await repository.run(session, run_id, lock=True)
    if run is None:
        raise UnknownRun(f"没有编号为 {run_id} 的年度结转")
    if run.state != YearEndState.PROPOSED:
        raise InvalidYearEnd(f"年度结转 #{run_id} 不在待复核状态")
    if run.proposed_by == by:
        raise SelfApproval("提交人不能复核自己提交的年度结转，请由另一位经办人员复核")
    return run


async def _audit(
    session: AsyncSession, clock: Clock, staff: StaffActor, action: str, run: YearEndRun
) -> None:
    await audit_repository.record_staff_action(
        session, staff, action, None, f"年度结转 #{run.id} {run.year}",
        {"year_end_id": run.id, "year": run.year}, clock.now(),
    )  # fmt: skip
    await session.commit()


# -- reading ---------------------------------------------------------------------------------


async def open_year_end(session: AsyncSession) -> YearEndRun | None:
    return await repository.open_run(session)


async def find_year_end(session: AsyncSession, run_id: int) -> YearEndRun:
    run = await repository.run(session, run_id)
    if run is None:
        raise UnknownRun(f"没有编号为 {run_id} 的年度结转")
    return run


async def recent_year_ends(session: AsyncSession, limit: int = 10) -> list[YearEndRun]:
    return await repository.recent_runs(session, limit)


async def year_end_totals(session: AsyncSession, run: YearEndRun) -> list[YearEndTotal]:
    return await repository.totals(session, run.id)


# -- carrying out ----------------------------------------------------------------------------


async def close_year(
    session: AsyncSession,
    clock: Clock,
    run_id: int,
    *,
    batch: int = CREDIT_BATCH,
    progress: YearEndProgress | None = None,
) -> YearEndRun:
    """Carry the run on from its last commit to the end (a finished run is returned as it is)."""
    while True:
        run = await repository.run(session, run_id, lock=True)
        if run is None:
            await session.rollback()
            raise UnknownRun(f"没有编号为 {run_id} 的年度结转")
        state = YearEndState(run.state)
        if state is YearEndState.PROPOSED:
            await session.rollback()
            raise InvalidYearEnd(f"年度结转 #{run_id} 尚未复核，不能执行")
        if state is not YearEndState.CREDITING:
            await session.commit()
            return run
        rates: dict[str, int] = json.loads(run.rates)
        accounts = await repository.next_accounts(session, rates, run.account_cursor, batch)
        now = clock.now()
        if not accounts:
            run.state = YearEndState.DONE.value
            run.open_slot = None
            run.updated_at = run.finished_at = now
            await session.commit()
            return run
        await _interest_batch(session, clock, run, rates, accounts)
        run.account_cursor = accounts[-1].account_id
        run.accounts_done += len(accounts)
        run.updated_at = now
        await session.commit()
        if progress:
            progress(run)


async def _interest_batch(
    session: AsyncSession,
    clock: Clock,
    run: YearEndRun,
    rates: dict[str, int],
    accounts: list[repository.RatedAccount],
) -> None:
    now = clock.now()
    ids = [a.account_id for a in accounts]
    # Accounts first, in id order (as every writer locks them), then their year-end balances.
    locked = await ledger_bulk.lock_accounts(session, ids)
    balances = await ledger_bulk.balances_before(session, ids, year_cutoff(run.year))
    already = await ledger_bulk.posted_keys(session, [interest_key(run.year, i) for i in ids])
    moved: dict[str, list[int]] = {a: [0, 0, 0] for a in {x.admdvs for x in accounts}}
    planned: list[tuple[repository.RatedAccount, int, int]] = []
    for account in accounts:
        moved[account.admdvs][0] += 1
        if interest_key(run.year, account.account_id) in already:
            run.already_count += 1
            continue
        balance = balances.get(account.account_id, 0)
        interest = year_interest(balance, rates[account.admdvs])
        if interest > 0:
            planned.append((account, balance, interest))
    postings = [
        ledger_bulk.AccountPosting(
            account.account_id,
            Posting(
                kind=EntryKind.INTEREST_CREDIT,
                amount_fen=interest,
                idempotency_key=interest_key(run.year, account.account_id),
                counterparty="医保经办机构",
                source_type="interest",
                source_id=str(run.year),
            ),
        )
        for account, _, interest in planned
    ]
    results = await ledger_bulk.post_many(session, postings, now, locked=locked)
    notices: list[notifications_bulk.NewMessage] = []
    for (account, balance, interest), result in zip(planned, results, strict=True):
        if not isinstance(result, int):
            # A credit is refused only by a key used elsewhere: stop the run (the batch rolls
            # back whole) rather than skip money silently.
            raise result
        moved[account.admdvs][1] += 1
        moved[account.admdvs][2] += interest
        run.credited_count += 1
        run.credited_fen += interest
        notices.append(
            notifications_bulk.NewMessage(
                channel=Channel.INAPP,
                dedup_key=f"credit:{interest_key(run.year, account.account_id)}",
                person_id=account.person_id,
                subject="个人账户年度结息",
                body=(
                    f"您的医保个人账户已划入 {run.year} 年度结息 {format_yuan(interest)} 元"
                    f"（年末余额 {format_yuan(balance)} 元，年利率"
                    f" {format_rate(rates[account.admdvs])}）。"
                ),
            )
        )
    await repository.move_totals(session, run.id, {a: (m[0], m[1], m[2]) for a, m in moved.items()})
    await enqueue_notices(session, notices, now)
