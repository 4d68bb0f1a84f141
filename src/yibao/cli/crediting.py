"""crediting: the month's crediting run (划账) of the whole province, resumable; its report."""

from __future__ import annotations

import csv
import getpass
import json
import sys
from pathlib import Path
from typing import Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.cli.context import console, fail, print_json, run_in_session
from yibao.crediting import service as crediting
from yibao.crediting.domain import HEADER, STATE_NAMES, RunState
from yibao.crediting.tables import CreditingRun, YearEndRun
from yibao.crediting.year_end import YEAR_END_STATE_NAMES, YearEndState, format_rate
from yibao.kernel.money import format_yuan
from yibao.runtime import Runtime

crediting_app = typer.Typer(
    help="划账: the monthly crediting run, and the year end", no_args_is_help=True
)


def _operator() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _summary(run: CreditingRun) -> dict[str, object]:
    return {
        "run": run.id,
        "month": run.month,
        "region": run.region,
        "state": run.state,
        "lines": run.lines_total,
        "credited": run.credited_count,
        "credited_amount": format_yuan(run.credited_fen),
        "unchanged": run.unchanged_count,
        "refused": run.refused_count,
    }


def _print(run: CreditingRun, as_json: bool) -> None:
    if as_json:
        print_json(_summary(run))
        return
    console.print(
        f"划账 #{run.id} {run.month}（{STATE_NAMES[RunState(run.state)]}）：共 {run.lines_total} 行，"
        f"划入 {run.credited_count} 笔共 {format_yuan(run.credited_fen)} 元，"
        f"未变 {run.unchanged_count}，拒绝 {run.refused_count}；"
        f"拒绝明细: yibao crediting report {run.id}",
        highlight=False,
        soft_wrap=True,
    )


async def _carry_on(
    runtime: Runtime, session: AsyncSession, run_id: int, batch: int, load_batch: int
) -> CreditingRun:
    # A second connection: each batch of credits is prepared while the one before it commits.
    async with runtime.sessions() as beside:
        return await crediting.execute(
            session,
            runtime.cipher,
            runtime.clock,
            run_id,
            credit_batch=batch,
            load_batch=load_batch,
            beside=beside,
        )


_BATCH = typer.Option(
    crediting.CREDIT_BATCH, "--batch", min=1, max=100_000, help="accounts credited per commit"
)
_LOAD_BATCH = typer.Option(
    crediting.LOAD_BATCH, "--load-batch", min=1, max=1_000_000, help="lines loaded per commit"
)


@crediting_app.command("run")
def run_month(
    month: str = typer.Option(..., "--month", help="费款所属期 YYYY-MM"),
    file: Path = typer.Option(..., "--file", help="CSV: " + ",".join(HEADER) + "; or a directory"),
    region: str | None = typer.Option(None, "--region", help="only this region (admdvs)"),
    batch: int = _BATCH,
    load_batch: int = _LOAD_BATCH,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Credit the month: employees from the file, retirees from enrolment. Killed and run again
    with the same arguments, it carries on where it stopped; run again after it finished, it
    credits only what changed."""

    source = file.resolve()

    async def _work(runtime: Runtime, session: AsyncSession) -> CreditingRun:
        found = await crediting.open_run(session)
        if found is not None:
            same = (found.month, found.region, found.source) == (
                month.strip(),
                region,
                str(source),
            )
            if not same:
                fail(
                    f"划账 #{found.id}（{found.month}，{found.source}）尚未完成："
                    f"先用 yibao crediting resume {found.id} 续跑"
                )
            run_id = found.id
        else:
            started = await crediting.start_run(
                session,
                runtime.clock,
                month=month,
                source=file,
                region=region,
                by=_operator(),
                approved=True,
            )
            run_id = started.id
        return await _carry_on(runtime, session, run_id, batch, load_batch)

    _print(run_in_session(_work), as_json)


@crediting_app.command("resume")
def resume(
    run_id: int = typer.Argument(..., help="the run's number"),
    batch: int = _BATCH,
    load_batch: int = _LOAD_BATCH,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Carry an approved run on from its last commit."""

    async def _work(runtime: Runtime, session: AsyncSession) -> CreditingRun:
        return await _carry_on(runtime, session, run_id, batch, load_batch)

    _print(run_in_session(_work), as_json)


@crediting_app.command("show")
def show(
    run_id: int = typer.Argument(...),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """A run's state and its counts and sums per region and employer."""

    async def _work(
        runtime: Runtime, session: AsyncSession
    ) -> tuple[CreditingRun, list[dict[str, Any]]]:
        run = await crediting.find_run(session, run_id)
        totals = [
            {
                "admdvs": t.admdvs,
                "employer_id": t.employer_id,
                "origin": t.origin,
                "lines": t.lines,
                "credited": t.credited_count,
                "credited_amount": format_yuan(t.credited_fen),
                "unchanged": t.unchanged_count,
                "refused": t.refused_count,
            }
            for t in await crediting.run_totals(session, run)
        ]
        return run, totals

    run, totals = run_in_session(_work)
    if as_json:
        print_json(_summary(run) | {"totals": totals})
        return
    _print(run, False)
    for t in totals:
        console.print(
            f"  {t['admdvs'] or '-'} 单位 {t['employer_id'] or '-'} {t['origin']}: {t['lines']} 行，"
            f"划入 {t['credited']} 笔 {t['credited_amount']} 元，未变 {t['unchanged']}，"
            f"拒绝 {t['refused']}",
            highlight=False,
        )


@crediting_app.command("report")
def report(
    run_id: int = typer.Argument(...),
    out: Path | None = typer.Option(None, "--out", help="write the CSV here (default: stdout)"),
) -> None:
    """Every refused line with its reason, as CSV (UTF-8 with BOM, for spreadsheet programs)."""

    async def _work(runtime: Runtime, session: AsyncSession) -> int:
        run = await crediting.find_run(session, run_id)
        handle = out.open("w", encoding="utf-8-sig", newline="") if out else sys.stdout
        try:
            writer = csv.writer(handle)
            writer.writerow(REPORT_HEADER)
            count = 0
            async for line in crediting.refused_report(session, run):
                writer.writerow(
                    [
                        line.file,
                        line.line_no,
                        line.id_number_masked,
                        line.month,
                        line.code,
                        line.reason,
                    ]
                )
                count += 1
            return count
        finally:
            if out:
                handle.close()

    count = run_in_session(_work)
    if out:
        console.print(f"已写出 {count} 行拒绝明细到 {out}", highlight=False)


REPORT_HEADER = ["文件", "行号", "身份证号", "费款所属期", "原因代码", "原因"]


@crediting_app.command("runs")
def runs(as_json: bool = typer.Option(False, "--json")) -> None:
    """The latest runs."""

    async def _work(runtime: Runtime, session: AsyncSession) -> list[CreditingRun]:
        return await crediting.recent_runs(session)

    found = run_in_session(_work)
    if as_json:
        print_json([_summary(r) for r in found])
        return
    for r in found:
        _print(r, False)


def _year_end_summary(run: YearEndRun) -> dict[str, object]:
    return {
        "year_end": run.id,
        "year": run.year,
        "state": run.state,
        "rates": json.loads(run.rates),
        "accounts": run.accounts_done,
        "credited": run.credited_count,
        "credited_amount": format_yuan(run.credited_fen),
        "already": run.already_count,
    }


@crediting_app.command("close-year")
def close_year(
    year: int = typer.Argument(..., help="the year to close, e.g. 2026"),
    batch: int = _BATCH,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Interest (年度结息) on every account of the regions with a rate, once. Killed and run
    again, it carries on where it stopped; run again after it finished, it credits nothing."""

    async def _work(runtime: Runtime, session: AsyncSession) -> YearEndRun:
        found = await crediting.open_year_end(session)
        if found is not None and found.year != year:
            fail(f"年度结转 #{found.id}（{found.year}）尚未完成：先用 close-year {found.year} 续跑")
        if found is None:
            found = await crediting.start_year_end(
                session, runtime.clock, year, by=_operator(), approved=True
            )
        return await crediting.close_year(session, runtime.clock, found.id, batch=batch)

    run = run_in_session(_work)
    if as_json:
        print_json(_year_end_summary(run))
        return
    rates = json.loads(run.rates)
    console.print(
        f"年度结转 #{run.id} {run.year}（{YEAR_END_STATE_NAMES[YearEndState(run.state)]}）："
        f"{len(rates)} 个统筹区有利率，{run.accounts_done} 个账户，"
        f"结息 {run.credited_count} 笔共 {format_yuan(run.credited_fen)} 元，"
        f"此前已结息 {run.already_count}",
        highlight=False,
        soft_wrap=True,
    )


@crediting_app.command("interest-rate")
def interest_rate(
    region: str = typer.Argument(..., help="the region (admdvs)"),
    rate: str | None = typer.Argument(None, help="yearly rate: 1.5% or 150bp"),
    none: bool = typer.Option(False, "--none", help="the region pays no interest"),
) -> None:
    """Set a region's yearly interest rate on personal accounts (default: none)."""
    if (rate is None) == (not none):
        fail("给出利率（如 1.5%），或用 --none 取消")

    async def _work(runtime: Runtime, session: AsyncSession) -> int | None:
        return await crediting.set_interest_rate(
            session, runtime.clock, region, None if none else rate, by=_operator()
        )

    found = run_in_session(_work)
    shown = "不计息" if found is None else f"年利率 {format_rate(found)}"
    console.print(f"统筹区 {region}：{shown}", highlight=False)


@crediting_app.command("interest-rates")
def interest_rates(as_json: bool = typer.Option(False, "--json")) -> None:
    """The regions that pay interest, and their rates."""

    async def _work(runtime: Runtime, session: AsyncSession) -> list[tuple[str, int]]:
        return [(r.admdvs, r.rate_bp) for r in await crediting.interest_rates(session)]

    found = run_in_session(_work)
    if as_json:
        print_json([{"admdvs": a, "rate_bp": r, "rate": format_rate(r)} for a, r in found])
        return
    for admdvs, rate_bp in found:
        console.print(f"{admdvs} 年利率 {format_rate(rate_bp)}", highlight=False)


__all__ = ["REPORT_HEADER", "crediting_app"]
