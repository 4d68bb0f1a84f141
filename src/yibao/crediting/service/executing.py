"""Carrying out an approved run, step by step, each batch committed with the run's cursor.

Each batch starts by locking the run's row and reading its cursor, and ends by committing its
writes (lines, ledger entries, contribution records, notices) together with the moved cursor.
Killed anywhere, the run loses at most the batch in flight, which rolls back whole; started
again, it goes on from the last commit. The ledger's unique idempotency keys are the database's
guarantee behind that: a person-month is never credited twice, whatever this code does.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.contributions import bulk as contributions_bulk
from yibao.contributions.domain import ContributionAmounts, status_of
from yibao.crediting import repository
from yibao.crediting.domain import (
    Credit,
    InvalidRun,
    Origin,
    Outcome,
    Refusal,
    RunState,
    UnknownRun,
    check_line,
    decide,
)
from yibao.crediting.repository import staging
from yibao.crediting.source import Chunk, files_of, fingerprint, read
from yibao.crediting.tables import CreditingRun
from yibao.db.bulk import Together
from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.domain import RegionRules
from yibao.kernel.clock import Clock, china_today
from yibao.kernel.idnumber import mask_id_number
from yibao.kernel.money import format_yuan
from yibao.kernel.pii import PersonalDataCipher
from yibao.ledger import bulk as ledger_bulk
from yibao.ledger.domain import EntryKind
from yibao.ledger.repository import Posting
from yibao.notifications import bulk as notifications_bulk
from yibao.notifications.domain import Channel

LOAD_BATCH = 20_000
# A batch holds its accounts' locks from its first statement to its commit, and a settlement on
# one of them waits that long: 1,000 kept the settlement p99 during a run under 0.5 s where 5,000
# gave 1.5–4 s, with no clear loss of speed (docs/benchmarks.md, "Settlement p99 …").
CREDIT_BATCH = 1_000

Progress = Callable[[CreditingRun], None]


async def execute(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    clock: Clock,
    run_id: int,
    *,
    load_batch: int = LOAD_BATCH,
    credit_batch: int = CREDIT_BATCH,
    progress: Progress | None = None,
) -> CreditingRun:
    """Carry the run on from its last commit to the end (a finished run is returned as it is)."""
    while True:
        run = await _locked(session, run_id)
        state = RunState(run.state)
        if state is RunState.PROPOSED:
            await session.rollback()
            raise InvalidRun(f"划账 #{run_id} 尚未复核，不能执行")
        if state in (RunState.DONE, RunState.REJECTED):
            await session.commit()
            return run
        if state is RunState.LOADING:
            await _load(session, cipher, clock, run, load_batch, progress)
        elif state is RunState.DEDUPING:
            await repository.refuse_duplicates(session, run.id)
            _move(run, clock, RunState.RETIREES)
            await session.commit()
        elif state is RunState.RETIREES:
            await repository.add_retirees(
                session, run.id, run.month, _month_end(run.month), run.region
            )
            run.line_cursor = 0
            _move(run, clock, RunState.CREDITING)
            await session.commit()
        elif state is RunState.CREDITING:
            await _credit(session, clock, run, credit_batch, progress)
        elif state is RunState.TOTALS:
            sums = await repository.write_totals(session, run.id)
            run.lines_total = int(sums["lines"])
            run.credited_count = int(sums["credited_count"])
            run.credited_fen = int(sums["credited_fen"])
            run.unchanged_count = int(sums["unchanged_count"])
            run.refused_count = int(sums["refused_count"])
            run.open_slot = None
            run.finished_at = clock.now()
            _move(run, clock, RunState.DONE)
            await session.commit()
        if progress:
            progress(run)


async def _locked(session: AsyncSession, run_id: int) -> CreditingRun:
    run = await repository.run(session, run_id, lock=True)
    if run is None:
        await session.rollback()
        raise UnknownRun(f"没有编号为 {run_id} 的划账")
    return run


def _move(run: CreditingRun, clock: Clock, state: RunState) -> None:
    run.state = state.value
    run.updated_at = clock.now()


def _month_end(month: str) -> date:
    year, number = int(month[:4]), int(month[5:7])
    return date(year, number, calendar.monthrange(year, number)[1])


# -- loading ---------------------------------------------------------------------------------


async def _load(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    clock: Clock,
    run: CreditingRun,
    batch: int,
    progress: Progress | None,
) -> None:
    files = files_of(Path(run.source))
    if fingerprint(files) != run.files:
        await session.rollback()
        raise InvalidRun(f"划账 #{run.id} 开始后文件被改动或移走，不能续跑；请驳回后重新提交")
    cursor = (run.file_index, run.file_offset, run.file_line)
    hasher = partial(cipher.lookup_hash, purpose=enrolment_repository.ID_PURPOSE)
    for chunk in read(files, *cursor, batch):
        if (run.file_index, run.file_offset, run.file_line) != cursor:
            # Another process carried the run on meanwhile: start again from its cursor.
            await session.rollback()
            return
        run.line_cursor = await staging.load(
            session, run.id, _staged(run.month, hasher, chunk), run.region, run.line_cursor
        )
        run.file_index, run.file_offset, run.file_line = (
            chunk.file_index,
            chunk.offset,
            chunk.line_no,
        )
        run.lines_done += len(chunk.lines)
        run.updated_at = clock.now()
        cursor = (run.file_index, run.file_offset, run.file_line)
        await session.commit()
        if progress:
            progress(run)
        run = await _locked(session, run.id)
    _move(run, clock, RunState.DEDUPING)
    await session.commit()


def _staged(month: str, hasher: Callable[[str], str], chunk: Chunk) -> list[tuple[Any, ...]]:
    """The chunk's lines as `staging.STAGING_COLUMNS`, each checked on its own: its ID number
    kept only as the keyed hash and the mask (a million lines a run: plain tuples, no more)."""
    out: list[tuple[Any, ...]] = []
    append = out.append
    columns = chunk.columns
    for raw in chunk.lines:
        fields = raw.fields
        if isinstance(fields, Refusal):
            append(
                (raw.file_index, raw.line_no, None, None, None, 0, 0, 0, fields.value, raw.detail)
            )
            continue
        assert columns is not None
        checked = check_line(fields, columns, month)
        if isinstance(checked, Refusal):
            index = columns["id_number"]
            given = fields[index].strip() if len(fields) > index else ""
            # Never the number itself in the report: at most what a mask shows.
            masked = mask_id_number(given)[:18] if len(given) >= 8 else None
            append((raw.file_index, raw.line_no, None, masked, None, 0, 0, 0, checked.value, None))
            continue
        number, amounts = checked.id_number, checked.amounts
        append(
            (
                raw.file_index,
                raw.line_no,
                hasher(number),
                mask_id_number(number),
                checked.month,
                amounts.base_fen,
                amounts.employer_fen,
                amounts.personal_fen,
                None,
                None,
            )
        )
    return out


# -- crediting -------------------------------------------------------------------------------


async def _credit(
    session: AsyncSession, clock: Clock, run: CreditingRun, batch: int, progress: Progress | None
) -> None:
    rules = {
        r.admdvs: enrolment_repository.rules_of(r)
        for r in await enrolment_repository.all_regions(session)
    }
    while True:
        lines = await repository.checked_lines(session, run.id, run.line_cursor, batch)
        if not lines:
            _move(run, clock, RunState.TOTALS)
            await session.commit()
            return
        await _credit_batch(session, clock, run, lines, rules)
        run.line_cursor = lines[-1].id
        run.lines_done += len(lines)
        run.updated_at = clock.now()
        await session.commit()
        if progress:
            progress(run)
        run = await _locked(session, run.id)
        if RunState(run.state) is not RunState.CREDITING:
            await session.rollback()
            return


async def _credit_batch(
    session: AsyncSession,
    clock: Clock,
    run: CreditingRun,
    lines: list[repository.CheckedLine],
    rules: dict[str, RegionRules],
) -> None:
    now = clock.now()
    today = china_today(clock)
    # Accounts first, in id order (as every writer locks them), then what is recorded for them.
    locked = await ledger_bulk.lock_accounts(session, [line.account_id for line in lines])
    recorded = await contributions_bulk.recorded(session, [(x.person_id, x.month) for x in lines])
    plans: list[tuple[repository.CheckedLine, ContributionAmounts, Credit, bool]] = []
    for line in lines:
        retired = line.origin == Origin.RETIREE
        amounts = ContributionAmounts(line.base_fen, line.employer_fen, line.personal_fen)
        before = recorded.get((line.person_id, line.month))
        region = rules[line.admdvs]
        credit = decide(
            run_id=run.id,
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
    postings = [
        ledger_bulk.AccountPosting(line.account_id, _posting(line, credit))
        for line, _, credit, _ in plans
        if credit.key is not None
    ]
    posted = iter(await ledger_bulk.post_many(session, postings, now, locked=locked))
    outcomes: list[repository.LineOutcome] = []
    records: list[contributions_bulk.MonthRecord] = []
    notices: list[notifications_bulk.NewMessage] = []
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
            retired = line.origin == Origin.RETIREE
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


__all__ = ["CREDIT_BATCH", "LOAD_BATCH", "enqueue_notices", "execute"]
