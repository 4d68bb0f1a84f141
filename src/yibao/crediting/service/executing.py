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
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.crediting import repository
from yibao.crediting.domain import (
    InvalidRun,
    Refusal,
    RunState,
    UnknownRun,
    check_line,
)
from yibao.crediting.repository import staging
from yibao.crediting.service import batches
from yibao.crediting.service.batches import enqueue_notices
from yibao.crediting.source import Chunk, files_of, fingerprint, read
from yibao.crediting.tables import CreditingRun
from yibao.enrolment import repository as enrolment_repository
from yibao.kernel.clock import Clock
from yibao.kernel.idnumber import mask_id_number
from yibao.kernel.pii import PersonalDataCipher

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
    beside: AsyncSession | None = None,
) -> CreditingRun:
    """Carry the run on from its last commit to the end (a finished run is returned as it is).
    `beside`: a second session, on PostgreSQL to prepare each batch of credits while the one
    before it commits (`batches.credit`)."""
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
            await batches.credit(session, clock, run, credit_batch, progress, beside)
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


__all__ = ["CREDIT_BATCH", "LOAD_BATCH", "enqueue_notices", "execute"]
