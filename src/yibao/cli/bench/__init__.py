"""`yibao bench`: load a world of insured persons, then measure yibao against pgbench."""

from __future__ import annotations

import typer

from yibao.cli.context import console, fail, print_json

bench_app = typer.Typer(
    help="Benchmark: load bench data (load), run the workloads against pgbench (run, the default).",
    invoke_without_command=True,
)


@bench_app.command("load")
def load(
    persons: int = typer.Option(100_000, "--persons", help="How many insured persons"),
    database: str = typer.Option(None, help="Database name (default yibao_bench_<size>)"),
    months: int = typer.Option(36, help="Months of history per person"),
    item_months: int = typer.Option(3, help="Recent months whose settlements keep their items"),
    jobs: int = typer.Option(0, help="Generator processes (default: one per core)"),
    chunk: int = typer.Option(2_000, help="Persons per COPY transaction"),
    validate: bool = typer.Option(True, help="Validate the foreign keys after the load"),
    seed: int = typer.Option(20261125, help="Random seed"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Generate N persons with three years of history into the bench database (COPY)."""
    from yibao.cli.bench.load import load_world
    from yibao.cli.bench.target import Target

    if persons < 1:
        fail("--persons 至少为 1")
    if not 1 <= months <= 120 or not 0 <= item_months <= months:
        fail("--months 应在 1 到 120 之间，--item-months 不能超过 --months")
    target = Target.for_persons(persons, database)
    facts = load_world(
        target,
        persons,
        seed=seed,
        months=months,
        item_months=item_months,
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
