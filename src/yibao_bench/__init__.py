"""`yibao-bench`: load a world of insured persons, then measure yibao against pgbench.

The benchmark harness is a package of its own beside `yibao`, not part of the product: yibao never
imports it (an import-linter contract), and numpy, which only its loader uses, comes with the
`bench` extra (requirements-bench.lock), never with the product. `scripts/bench` runs it."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from yibao.cli.context import console, fail, print_json
from yibao.config import get_settings
from yibao.logs import configure_logging

bench_app = typer.Typer(
    help="Benchmark: load bench data (load), run the workloads against pgbench (run, the default).",
    invoke_without_command=True,
)
DEFAULT_REPORT = Path("docs/benchmarks.md")


@bench_app.callback()
def default(ctx: typer.Context) -> None:
    """Without a sub-command: `yibao-bench run` with its defaults."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(run_command)


@bench_app.command("run")
def run_command(
    persons: int = typer.Option(1_000_000, "--persons", help="Size of the world to measure"),
    growth_persons: int = typer.Option(
        100_000, "--growth-persons", help="Smaller world for the growth ratio (0: skip)"
    ),
    seconds: int = typer.Option(30, help="Seconds of each measured workload"),
    warmup: int = typer.Option(5, help="Seconds of warm-up before each workload"),
    connections: int = typer.Option(32, help="Concurrent connections (wrk -c, pgbench -c)"),
    threads: int = typer.Option(2, help="Load-generator threads (wrk -t, pgbench -j)"),
    workers: int = typer.Option(0, help="Server worker processes (default: one per core)"),
    pgbench_scale: int = typer.Option(50, help="pgbench scale factor (×100,000 accounts)"),
    query_persons: int = typer.Option(20_000, help="Random persons signed in for the query load"),
    profile_seconds: int = typer.Option(12, help="Seconds of the py-spy pass (0: no profile)"),
    seed: int = typer.Option(20261125, help="Random seed"),
    report: Path = typer.Option(DEFAULT_REPORT, help="Markdown report to write ('-' for none)"),
    database: str = typer.Option(None, help="Bench database (default yibao_bench_<size>)"),
    pool_size: int = typer.Option(
        0, help="Database connections per server worker (default: connections / workers + 2)"
    ),
    floor: bool = typer.Option(
        True, "--floor/--no-floor", help="Also measure the stack's floor (pgbench's work over HTTP)"
    ),
    tuned: bool = typer.Option(
        False,
        "--tuned",
        help="Run on docs/tuning.md's reloadable settings (ALTER SYSTEM), then put back the old",
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Measure settlement and account queries against pgbench TPC-B; write the report."""
    from yibao_bench import readings
    from yibao_bench.run import RunOptions, run_bench
    from yibao_bench.target import Target

    if seconds < 1 or connections < 1 or threads < 1:
        fail("--seconds、--connections、--threads 至少为 1")
    opts = RunOptions(
        persons=persons,
        growth_persons=growth_persons or None,
        seconds=seconds,
        warmup=warmup,
        connections=connections,
        threads=threads,
        workers=workers or os.cpu_count() or 2,
        pgbench_scale=pgbench_scale,
        query_persons=query_persons,
        profile_seconds=profile_seconds,
        seed=seed,
        report=None if str(report) == "-" else report,
        database=database,
        pool_size=pool_size,
        floor=floor,
    )
    admin = Target.for_persons(persons, database).admin_dsn
    before = readings.tune(admin, readings.TUNING) if tuned else None
    try:
        results = run_bench(opts)
    except RuntimeError as exc:
        fail(str(exc))
    finally:
        if before is not None:
            readings.untune(admin, before)
    if as_json:
        print_json(results)
        return
    for found in results["verdict"].values():
        mark = {True: "[green]达标[/]", False: "[red]未达标[/]", None: "[dim]记录[/]"}[found["met"]]
        value = "未测得" if found["value"] is None else found["value"]
        console.print(f"{mark} {found['label']}: {value} (目标 {found['target']})")


@bench_app.command("load")
def load_command(
    persons: int = typer.Option(100_000, "--persons", help="How many insured persons"),
    database: str = typer.Option(None, help="Database name (default yibao_bench_<size>)"),
    months: int = typer.Option(36, help="Months of history per person"),
    item_months: int = typer.Option(3, help="Recent months whose settlements keep their items"),
    settlement_months: int = typer.Option(
        0, help="Recent months whose settlements keep their rows (default: all)"
    ),
    jobs: int = typer.Option(0, help="Generator processes (default: one per core)"),
    chunk: int = typer.Option(2_000, help="Persons per COPY transaction"),
    validate: bool = typer.Option(True, help="Validate the foreign keys after the load"),
    seed: int = typer.Option(20261125, help="Random seed"),
    if_missing: bool = typer.Option(
        False, "--if-missing", help="Do nothing when a complete world of this size exists"
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Generate N persons with three years of history into the bench database (COPY)."""
    from yibao_bench.load import load_world
    from yibao_bench.target import Target
    from yibao_bench.worlds import bring_up_to_date

    if persons < 1:
        fail("--persons 至少为 1")
    if not 1 <= months <= 120 or not 0 <= item_months <= months:
        fail("--months 应在 1 到 120 之间，--item-months 不能超过 --months")
    target = Target.for_persons(persons, database)
    if if_missing:
        # A world loaded under older migrations is migrated (alembic upgrade), not reloaded.
        found = bring_up_to_date(target)
        if found.facts is not None and found.facts.get("persons") == persons:
            console.print(
                f"{target.database} 已有 {persons:,} 名参保人的完整压测数据，跳过 ({found.note})"
            )
            return
        console.print(f"{target.database}: {found.note}；重新生成")
    facts = load_world(
        target,
        persons,
        seed=seed,
        months=months,
        item_months=item_months,
        settlement_months=settlement_months or None,
        jobs=jobs or None,
        chunk_size=chunk,
        validate=validate,
    )
    if as_json:
        print_json(facts)
        return
    rows = facts["rows"]
    console.print(
        f"已写入 {target.database}: {persons:,} 名参保人, {rows.get('ledger_entries', 0):,} 条账户明细,"
        f" {rows.get('settlements', 0):,} 笔结算, 用时 {facts['timings']['total']} 秒"
    )


@bench_app.command("report")
def report_command(
    results: Path = typer.Argument(..., help="A var/bench/results-*.json file of an earlier run"),
    report: Path = typer.Option(DEFAULT_REPORT, help="Markdown report to write"),
) -> None:
    """Rewrite the report from a run's saved results (after editing docs/benchmarks-notes.md)."""
    import json

    from yibao_bench.report import write_report

    if not results.exists():
        fail(f"找不到结果文件 {results}")
    write_report(json.loads(results.read_text()), report)
    console.print(f"已写入 {report}")


def main() -> None:
    configure_logging(get_settings().log_level)
    bench_app()
