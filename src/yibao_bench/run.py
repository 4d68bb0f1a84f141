"""`yibao-bench run`: the workloads, the yardstick and the report, in one run.

Order: pgbench TPC-B on its own database (the yardstick); then the real server against the bench
world for the settlement workloads (2207 and 2102 through the institution interface); pgbench
again; the stack's floor (floor.py); the account query workload (/api/v1) — each after a short
warm-up, each followed by a profiled pass with py-spy; then the query workload again against the
smaller world for the growth ratio. All in one run, so the ratios hold when absolute numbers
drift. Each measured pass also records what the machine's other tenants used meanwhile (load
average, their cores) and the WAL its own database wrote (walmeter.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from yibao.cli.context import console
from yibao.kernel.pii import PersonalDataCipher
from yibao_bench import (
    floor,
    loadgen,
    pharmacy,
    pools,
    readings,
    server,
    walmeter,
    worlds,
    yardstick,
)
from yibao_bench.target import (
    BENCH_DIR,
    Target,
    bench_settings,
    pgbench_database,
    server_environment,
)
from yibao_bench.verdict import verdict

SETTLEMENT_RATE_CEILING = 1_500  # requests/s a pool is sized for; beyond it wrk replays
PRIME_CAP = 300  # seconds at most for the first touch of every sampled person


@dataclass(frozen=True)
class RunOptions:
    persons: int
    growth_persons: int | None
    seconds: int
    warmup: int
    connections: int
    threads: int
    workers: int
    pgbench_scale: int
    query_persons: int
    profile_seconds: int
    seed: int
    report: Path | None
    database: str | None = None
    growth_database: str | None = None
    pgbench_database: str = field(default_factory=pgbench_database)
    pool_size: int = 0  # database connections per server worker (0: enough for every connection)
    floor: bool = True  # also measure the stack's floor (floor.py)


def _wrk(
    srv: server.Server,
    script: str,
    pool_dir: Path,
    opts: RunOptions,
    seconds: int,
    dsn: str,
    profile_to: Path | None = None,
    *,
    measured: bool = False,
) -> dict[str, Any]:
    """One pass of wrk against the server; a measured pass also counts the WAL its database
    wrote (walmeter.py), apart from what other databases of the server wrote meanwhile."""
    before = asyncio.run(readings.db_counters(dsn))
    spy = None
    database = dsn.rsplit("/", 1)[1]
    with walmeter.WalMeter(dsn) if measured else contextlib.nullcontext() as wal:
        process = loadgen.start_wrk(
            srv.url,
            script,
            pool_dir,
            connections=opts.connections,
            threads=opts.threads,
            seconds=seconds,
        )
        if profile_to is not None:
            busiest = server.busiest(srv.workers, over=min(2, seconds / 4))
            spy = server.start_profile(busiest, max(1, seconds - 4), profile_to)
        with server.UsageMeter(srv.workers, process.pid, database=database) as meter:
            result = loadgen.finish_wrk(process)
        if spy is not None:
            spy.wait(timeout=120)
        after = asyncio.run(readings.db_counters(dsn))
    out = {
        **result.as_dict(),
        **meter.usage.as_dict(),
        **readings.delta(before, after, result.seconds),
        **(wal.result if wal is not None else {}),
    }
    if result.failed or result.socket_errors:
        out["sample_errors"] = result.stderr[-1200:]
    return out


def _settlement(
    srv: server.Server,
    target: Target,
    opts: RunOptions,
    cipher: PersonalDataCipher,
    work: Path,
    world_seed: int,
    *,
    infno: str = "2207",
    profile: bool = True,
) -> dict[str, Any]:
    """Settlement through the institution interface: 2207 (a hospital's outpatient bill, its
    visit and fee lines written beforehand) or 2102 (a pharmacy sale, lines in the message)."""
    # The institutions' tokens follow from the seed the world was loaded with.
    institutions = pools.sign_in_hospitals(srv.url, world_seed, "H" if infno == "2207" else "P")
    out: dict[str, Any] = {"infno": infno}
    for phase, seconds in (
        ("warmup", opts.warmup),
        ("measured", opts.seconds),
        ("profiled", opts.profile_seconds if profile else 0),
    ):
        if seconds <= 0:
            continue
        pool_dir = work / f"settle-{infno}-{phase}"
        make = pools.settlement_pool if infno == "2207" else pharmacy.pharmacy_pool
        made = asyncio.run(
            make(
                target.dsn,
                cipher,
                institutions,
                persons=opts.persons,
                count=seconds * SETTLEMENT_RATE_CEILING,
                out_dir=pool_dir,
                threads=opts.threads,
                seed=opts.seed + len(phase) + int(infno) + int(time.time()),
            )
        )
        console.print(f"  结算 {phase}: {made:,} 条已签名 {infno} 报文, {seconds} 秒")
        spy_file = work / f"settle-{infno}.spy"
        profile_to = spy_file if phase == "profiled" else None
        result = _wrk(
            srv,
            loadgen.SETTLE_LUA,
            pool_dir,
            opts,
            seconds,
            target.dsn,
            profile_to,
            measured=phase == "measured",
        )
        if phase == "measured":
            out |= result
        if phase == "profiled":
            out["profile"] = server.summarise_profile(spy_file)
    return out


def _query(
    srv: server.Server, target: Target, persons: int, opts: RunOptions, work: Path, *, profile: bool
) -> dict[str, Any]:
    pool_dir = work / f"query-{target.database}"
    made = asyncio.run(
        pools.query_pool(
            target.dsn,
            persons=persons,
            count=opts.query_persons,
            out_dir=pool_dir,
            threads=opts.threads,
            seed=opts.seed + persons,
            step_up=timedelta(minutes=30),
            idle_timeout=timedelta(minutes=bench_settings(target).session_idle_minutes),
        )
    )
    console.print(f"  查询 {target.database}: {made:,} 名参保人的令牌")
    out: dict[str, Any] = {"tokens": made}
    # The settlement pass's dirty pages are flushed first: the large world's query pass follows
    # it and the small world's does not, so otherwise only one of them would share the disk with
    # a checkpoint. Then each sampled person once before the measured passes, so they measure
    # the index paths with those persons' pages read, not the disk (the first touch is reported
    # on its own).
    readings.checkpoint(target.admin_dsn)
    first = loadgen.prime(
        srv.url, pool_dir, connections=opts.connections, threads=opts.threads, cap=PRIME_CAP
    )
    out["first_touch"] = first.as_dict()
    if opts.warmup:
        _wrk(srv, loadgen.QUERY_LUA, pool_dir, opts, opts.warmup, target.dsn)
    out.update(
        _wrk(srv, loadgen.QUERY_LUA, pool_dir, opts, opts.seconds, target.dsn, measured=True)
    )
    if profile and opts.profile_seconds:
        spy_file = work / f"query-{target.database}.spy"
        _wrk(srv, loadgen.QUERY_LUA, pool_dir, opts, opts.profile_seconds, target.dsn, spy_file)
        out["profile"] = server.summarise_profile(spy_file)
    return out


def _yardstick(target: Target, opts: RunOptions) -> dict[str, Any]:
    """pgbench TPC-B on its own database of the same server, with the WAL it made."""
    before = readings.pg_state(target.admin_dsn)["wal"]
    with walmeter.WalMeter(_pgbench_dsn(target, opts)) as wal:
        found = yardstick.pgbench_run(
            target.admin_dsn,
            opts.pgbench_database,
            clients=opts.connections,
            threads=opts.threads,
            seconds=opts.seconds,
            scale=opts.pgbench_scale,
        ).as_dict()
        found |= readings.wal_delta(before, readings.pg_state(target.admin_dsn)["wal"])
    found |= wal.result
    console.print(f"  pgbench: {found['tps']:.0f} TPS")
    return found


def _pgbench_dsn(target: Target, opts: RunOptions) -> str:
    return target.admin_dsn.rsplit("/", 1)[0] + f"/{opts.pgbench_database}"


def _floor(target: Target, opts: RunOptions, work: Path, pool: int) -> dict[str, Any]:
    """The stack's floor (floor.py): pgbench's transaction and a keyed read served over HTTP by
    uvicorn, FastAPI and asyncpg with no yibao code, on the yardstick's database."""
    dsn = _pgbench_dsn(target, opts)
    env = {**server_environment(target, pool_size=pool), floor.DSN_VARIABLE: dsn}
    env[floor.POOL_VARIABLE] = str(pool)
    out: dict[str, Any] = {}
    with server.running_server(env, opts.workers, app="yibao_bench.floor:create_app") as srv:
        for kind in ("tpcb", "read"):
            pool_dir = work / f"floor-{kind}"
            pool_dir.mkdir()
            script = loadgen.floor_script(kind, opts.pgbench_scale)

            def measure(script: str = script, pool_dir: Path = pool_dir) -> dict[str, Any]:
                if opts.warmup:
                    _wrk(srv, script, pool_dir, opts, opts.warmup, dsn)
                return _wrk(srv, script, pool_dir, opts, opts.seconds, dsn, measured=True)

            # Each pass on its own: one that fails leaves the other's numbers in the report.
            out[kind] = _guarded(measure)
            console.print(f"  floor {kind}: {out[kind].get('throughput', 0):.0f} /s")
    return out


def _guarded(workload: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A workload that cannot run (a feature not there yet) is reported, not fatal."""
    try:
        return workload()
    except (asyncpg.PostgresError, RuntimeError, OSError) as exc:
        console.print(f"[red]  workload failed: {exc}[/]")
        return {"error": str(exc)[:500]}


def _pool_size(opts: RunOptions) -> int:
    if opts.pool_size:
        return opts.pool_size
    return max(4, opts.connections // max(opts.workers, 1) + 2)


def run_bench(opts: RunOptions) -> dict[str, Any]:
    missing = loadgen.require_tools()
    if missing:
        raise RuntimeError(
            f"缺少工具 {', '.join(missing)}：请用 scripts/bench 运行（会从 Debian 安装）"
        )
    target = Target.for_persons(opts.persons, opts.database)
    found = worlds.bring_up_to_date(target)
    world = found.facts
    if world is None:
        raise RuntimeError(
            f"没有可用的完整压测数据库 {target.database} ({found.note})："
            f"请先运行 yibao-bench load --persons {opts.persons}"
        )
    console.print(f"{target.database}: {found.note}")
    growth_target = (
        Target.for_persons(opts.growth_persons, opts.growth_database)
        if opts.growth_persons
        else None
    )
    growth_world = None
    if growth_target:
        growth_found = worlds.bring_up_to_date(growth_target)
        growth_world = growth_found.facts
        console.print(f"{growth_target.database}: {growth_found.note}")
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_at_start": [round(v, 2) for v in os.getloadavg()],
        "machine": readings.machine(),
        "versions": readings.versions(target.admin_dsn),
        "options": {k: str(v) for k, v in opts.__dict__.items()},
        "world": world,
        "growth_world": growth_world,
    }
    console.print(f"[bold]yardstick[/]: pgbench TPC-B, scale {opts.pgbench_scale}")
    if yardstick.pgbench_scale(target.admin_dsn, opts.pgbench_database) != opts.pgbench_scale:
        yardstick.pgbench_init(target.admin_dsn, opts.pgbench_database, opts.pgbench_scale)
    results["postgres_settings"] = readings.pg_state(target.admin_dsn)["settings"]
    results["pgbench"] = _yardstick(target, opts)
    cipher = PersonalDataCipher(bench_settings(target).data_key_bytes())
    pool = _pool_size(opts)
    results["server"] = {"workers": opts.workers, "pool_size": pool}
    with tempfile.TemporaryDirectory(prefix="yibao-bench-") as tmp:
        work = Path(tmp)
        console.print(f"[bold]server[/]: uvicorn × {opts.workers} → {target.database}")
        with server.running_server(server_environment(target, pool_size=pool), opts.workers) as srv:
            seed = int(world["seed"])
            results["settlement"] = _settlement(srv, target, opts, cipher, work, seed)
            console.print(f"  结算 2207: {results['settlement'].get('throughput', 0):.0f} TPS")
            results["settlement_2102"] = _guarded(
                lambda: _settlement(srv, target, opts, cipher, work, seed, infno="2102")
            )
            console.print(f"  结算 2102: {results['settlement_2102'].get('throughput', 0):.0f} TPS")
            # The yardstick again, right after: the settlement pass is bracketed by two.
            results["pgbench_after"] = _yardstick(target, opts)
            if opts.floor:
                console.print("[bold]floor[/]: pgbench's work over HTTP, no yibao code")
                results["floor"] = _guarded(lambda: _floor(target, opts, work, pool))
            results["query"] = _guarded(
                lambda: _query(srv, target, opts.persons, opts, work, profile=True)
            )
            console.print(f"  查询: {results['query'].get('throughput', 0):.0f} req/s")
        if growth_target and growth_world and opts.growth_persons:
            console.print(f"[bold]growth[/]: query workload on {growth_target.database}")
            env = server_environment(growth_target, pool_size=pool)
            with server.running_server(env, opts.workers) as srv:
                small = opts.growth_persons
                results["growth_query"] = _guarded(
                    lambda: _query(srv, growth_target, small, opts, work, profile=False)
                )
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["load_average_at_end"] = [round(v, 2) for v in os.getloadavg()]
    results["verdict"] = verdict(results)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    (BENCH_DIR / f"results-{stamp}.json").write_text(
        json.dumps(results, ensure_ascii=False, indent=2)
    )
    if opts.report is not None:
        from yibao_bench.report import write_report

        write_report(results, opts.report)
    return results
