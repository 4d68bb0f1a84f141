"""The crediting step of a run: batches of checked lines, each committed whole with the cursor.

A batch is prepared, then finished:

- *prepare* reads the batch's lines (after the cursor) and what is recorded for their
  person-months, and decides each line (`crediting.domain.decide`). Nothing is locked or
  written: it is a forecast.
- *finish* locks the batch's accounts in id order (as every writer locks them), reads what is
  recorded for them again under those locks (decides again if anything changed since the
  forecast), posts the entries, writes the 缴费记录, the notices and the lines' outcomes, then
  locks the run's row, checks that the cursor is still where this batch starts, moves it and
  commits. The account locks are held for the finish only.

On PostgreSQL with a second session (`beside`) the two overlap: batch n+1 is prepared on one
connection while batch n finishes on the other, so the worker's Python runs while the database
writes. Batch n+1 starts finishing only after batch n committed, so the cursor only ever moves
forward in order; a batch that finds the cursor elsewhere (another process carried the run on)
rolls back and stops. Killed anywhere, at most the batches in flight roll back, and the run goes
on from the last commit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.contributions import bulk as contributions_bulk
from yibao.contributions.domain import ContributionAmounts, status_of
from yibao.crediting import repository
from yibao.crediting.domain import Credit, Origin, Outcome, Refusal, RunState, UnknownRun, decide
from yibao.crediting.tables import CreditingRun
from yibao.db.bulk import Together
from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.domain import RegionRules
from yibao.kernel.clock import Clock, china_today
from yibao.kernel.money import format_yuan
from yibao.ledger import bulk as ledger_bulk
from yibao.ledger.domain import EntryKind
from yibao.ledger.repository import Posting
from yibao.notifications import bulk as notifications_bulk
from yibao.notifications.domain import Channel

Progress = Callable[[CreditingRun], None]
Plan = tuple[repository.CheckedLine, ContributionAmounts, Credit, bool]
Recorded = dict[tuple[int, str], contributions_bulk.Recorded]


@dataclass(frozen=True, slots=True)
class _Prepared:
    lines: list[repository.CheckedLine]
    recorded: Recorded
    plans: list[Plan]


async def credit(
    session: AsyncSession,
    clock: Clock,
    run: CreditingRun,
    batch: int,
    progress: Progress | None,
    beside: AsyncSession | None = None,
) -> None:
    """Credit the run's checked lines from its cursor, then move it to TOTALS. With `beside` (a
    second session) on PostgreSQL, batches are pipelined across the two."""
    rules = {
        r.admdvs: enrolment_repository.rules_of(r)
        for r in await enrolment_repository.all_regions(session)
    }
    sessions = [session]
    if beside is not None and _postgres(session) and _postgres(beside):
        sessions.append(beside)
    run_id, after = run.id, run.line_cursor
    finishing: asyncio.Task[CreditingRun | None] | None = None
    n = 0
    try:
        while True:
            current = sessions[n % len(sessions)]
            n += 1
            prepared = await _prepare(current, run_id, after, batch, rules)
            if finishing is not None:
                done = await finishing
                finishing = None
                if done is None:  # the cursor moved elsewhere: another process carries it on
                    await current.rollback()
                    return
                if progress:
                    progress(done)
            if prepared is None:
                await _to_totals(current, clock, run_id, after)
                return
            finishing = asyncio.create_task(_finish(current, clock, run_id, after, prepared, rules))
            if len(sessions) == 1:
                done = await finishing
                finishing = None
                if done is None:
                    return
                if progress:
                    progress(done)
            after = prepared.lines[-1].id
    finally:
        if finishing is not None:
            finishing.cancel()
            with contextlib.suppress(BaseException):
                await finishing


def _postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def _locked_run(session: AsyncSession, run_id: int) -> CreditingRun:
    found = await repository.run(session, run_id, lock=True)
    if found is None:
        await session.rollback()
        raise UnknownRun(f"没有编号为 {run_id} 的划账")
    return found


async def _to_totals(session: AsyncSession, clock: Clock, run_id: int, after: int) -> None:
    run = await _locked_run(session, run_id)
    if RunState(run.state) is RunState.CREDITING and run.line_cursor == after:
        run.state = RunState.TOTALS.value
        run.updated_at = clock.now()
        await session.commit()
    else:
        await session.rollback()


async def _prepare(
    session: AsyncSession, run_id: int, after: int, batch: int, rules: dict[str, RegionRules]
) -> _Prepared | None:
    lines = await repository.checked_lines(session, run_id, after, batch)
    if not lines:
        return None
    recorded = await contributions_bulk.recorded(session, [(x.person_id, x.month) for x in lines])
    return _Prepared(lines, recorded, _plans(run_id, lines, recorded, rules))


def _plans(
    run_id: int,
    lines: list[repository.CheckedLine],
    recorded: Recorded,
    rules: dict[str, RegionRules],
) -> list[Plan]:
    plans: list[Plan] = []
    retiree = Origin.RETIREE.value
    for line in lines:
        retired = line.origin == retiree
        amounts = ContributionAmounts(line.base_fen, line.employer_fen, line.personal_fen)
        before = recorded.get((line.person_id, line.month))
        region = rules[line.admdvs]
        credit = decide(
            run_id=run_id,
            person_id=line.person_id,
            month=line.month,
            amounts=amounts,
            retired=retired,
            credit_rate_bp=region.account_credit_rate_bp,
            retiree_monthly_credit_fen=region.retiree_monthly_credit_fen,
            recorded_fen=None if before is None else before.credited_fen,
        )
        changed = before is None or (
            not retired
            and (before.base_fen, before.employer_fen, before.personal_fen)
            != (amounts.base_fen, amounts.employer_fen, amounts.personal_fen)
        )
        plans.append((line, amounts, credit, changed))
    return plans


async def _finish(
    session: AsyncSession,
    clock: Clock,
    run_id: int,
    after: int,
    prepared: _Prepared,
    rules: dict[str, RegionRules],
) -> CreditingRun | None:
    """The batch's writes and the moved cursor, committed; None (rolled back) when the run's
    cursor is not where the batch starts any more, or the run is no longer crediting."""
    lines = prepared.lines
    now = clock.now()
    today = china_today(clock)
    # Accounts first, in id order (as every writer locks them), then what is recorded for them.
    locked = await ledger_bulk.lock_accounts(session, [line.account_id for line in lines])
    recorded = await contributions_bulk.recorded(session, [(x.person_id, x.month) for x in lines])
    plans = prepared.plans
    if recorded != prepared.recorded:  # written meanwhile (another writer of those months)
        plans = _plans(run_id, lines, recorded, rules)
    postings = [
        ledger_bulk.AccountPosting(line.account_id, _posting(line, credit))
        for line, _, credit, _ in plans
        if credit.key is not None
    ]
    posted = iter(await ledger_bulk.post_many(session, postings, now, locked=locked))
    outcomes: list[repository.LineOutcome] = []
    records: list[contributions_bulk.MonthRecord] = []
    notices: list[notifications_bulk.NewMessage] = []
    retiree = Origin.RETIREE.value
    for line, amounts, credit, changed in plans:
        entry_id: int | None = None
        if credit.key is not None:
            result = next(posted)
            if not isinstance(result, int):
                outcomes.append(
                    repository.LineOutcome(
                        line.id, Outcome.REFUSED, Refusal.LEDGER, result.message, 0
                    )
                )
                continue
            entry_id = result
            notices.append(_notice(line, credit))
        if credit.outcome is Outcome.REFUSED:
            outcomes.append(
                repository.LineOutcome(line.id, Outcome.REFUSED, credit.refusal, None, 0)
            )
            continue
        if credit.key is not None or changed:
            retired = line.origin == retiree
            records.append(
                contributions_bulk.MonthRecord(
                    person_id=line.person_id,
                    month=line.month,
                    base_fen=amounts.base_fen,
                    employer_fen=amounts.employer_fen,
                    personal_fen=amounts.personal_fen,
                    credited_fen=credit.target_fen,
                    arrived_on=today,
                    status=status_of(amounts, line.month, today, retired=retired),
                    ledger_entry_id=entry_id,
                )
            )
        outcomes.append(
            repository.LineOutcome(line.id, credit.outcome, None, None, credit.delta_fen)
        )
    # The month's records, the notices and the lines' outcomes: one statement on PostgreSQL.
    together = Together()
    await contributions_bulk.write(session, records, now, together=together)
    await enqueue_notices(session, notices, now, together=together)
    await repository.set_outcomes(session, outcomes, together=together)
    await together.run(session)
    run = await _locked_run(session, run_id)
    if RunState(run.state) is not RunState.CREDITING or run.line_cursor != after:
        await session.rollback()
        return None
    run.line_cursor = lines[-1].id
    run.lines_done += len(lines)
    run.updated_at = clock.now()
    await session.commit()
    return run


async def enqueue_notices(
    session: AsyncSession,
    notices: list[notifications_bulk.NewMessage],
    now: datetime,
    *,
    together: Together | None = None,
) -> None:
    """One in-app notice per credit; an SMS too only for those who asked for it."""
    await notifications_bulk.enqueue_credit_notices(session, notices, now, together=together)


def _posting(line: repository.CheckedLine, credit: Credit) -> Posting:
    assert credit.key is not None
    return Posting(
        kind=EntryKind.CONTRIBUTION_CREDIT,
        amount_fen=credit.delta_fen,
        idempotency_key=credit.key,
        counterparty="医保经办机构" if line.origin == Origin.RETIREE else "个人缴费划入",
        source_type="contribution",
        source_id=line.month,
    )


def _notice(line: repository.CheckedLine, credit: Credit) -> notifications_bulk.NewMessage:
    assert credit.key is not None
    what = "退休人员定额划入" if line.origin == Origin.RETIREE else "缴费划入"
    if credit.delta_fen != credit.target_fen:
        what = "补缴差额划入"
    return notifications_bulk.NewMessage(
        channel=Channel.INAPP,
        dedup_key=f"credit:{credit.key}",
        person_id=line.person_id,
        subject="个人账户划入",
        body=f"您的医保个人账户已划入 {line.month} {what} {format_yuan(credit.delta_fen)} 元。",
    )


__all__ = ["credit", "enqueue_notices"]
