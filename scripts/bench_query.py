"""The account query alone (issue #16): the bench's query workload against a loaded world, no
pgbench, no settlement pass, so one change can be measured in a minute.

    .venv/bin/yibao-bench load --persons 150000 --database acctq_perf --settlement-months 12
    .venv/bin/python scripts/bench_query.py --persons 150000 --database acctq_perf --seconds 15

The same server command, wrk script and token pool as `yibao-bench run` (src/yibao_bench): each
request is `GET /api/v1/account` or the first page of `GET /api/v1/consumption` for a random
person of the pool, after each of them was requested once. It prints the throughput, the
latencies and the CPU per request of the workers and of the server's own PostgreSQL backends
(read from /proc for the backends connected to the bench database, so other databases' work on a
shared machine is not counted), which are the steady figures when neighbours share the cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import timedelta
from pathlib import Path

import asyncpg

from yibao_bench import loadgen, pools, server
from yibao_bench.target import BENCH_DIR, Target, bench_settings, server_environment


async def _backends(dsn: str, database: str) -> list[int]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
    finally:
        await conn.close()
    return [int(r["pid"]) for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=150_000)
    parser.add_argument("--database", default="acctq_perf")
    parser.add_argument("--tokens", type=int, default=5_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pool-size", type=int, default=18)
    parser.add_argument("--path", default="", help="one path only (default: both, alternating)")
    parser.add_argument("--label", default="")
    args = parser.parse_args()

    target = Target.for_persons(args.persons, args.database)
    pool_dir = BENCH_DIR / f"query-only-{args.database}"
    made = asyncio.run(
        pools.query_pool(
            target.dsn,
            persons=args.persons,
            count=args.tokens,
            out_dir=pool_dir,
            threads=args.threads,
            seed=int(time.time()),
            step_up=timedelta(minutes=30),
            idle_timeout=timedelta(minutes=bench_settings(target).session_idle_minutes),
        )
    )
    script = loadgen.QUERY_LUA
    if args.path:
        script = script.replace(
            'paths = { "/api/v1/account", "/api/v1/consumption" }',
            f'paths = {{ "{args.path}", "{args.path}" }}',
            1,
        )
    env = server_environment(target, pool_size=args.pool_size)
    with server.running_server(env, args.workers) as srv:
        opts = {"connections": args.connections, "threads": args.threads}
        loadgen.prime(srv.url, pool_dir, cap=120, **opts)
        if args.warmup:
            loadgen.finish_wrk(
                loadgen.start_wrk(srv.url, script, pool_dir, seconds=args.warmup, **opts)
            )
        backends = asyncio.run(_backends(target.admin_dsn, args.database))
        pg_before = sum(server.cpu_seconds(p) for p in backends)
        process = loadgen.start_wrk(srv.url, script, pool_dir, seconds=args.seconds, **opts)
        with server.UsageMeter(srv.workers, process.pid) as meter:
            result = loadgen.finish_wrk(process)
        pg_cpu = sum(server.cpu_seconds(p) for p in backends) - pg_before
    answered = max(result.requests, 1)
    found = {
        "label": args.label,
        "tokens": made,
        "throughput": result.throughput,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "ok": result.ok,
        "failed": result.failed,
        "worker_ms": round(meter.usage.cpu_server / answered * 1000, 3),
        "postgres_ms": round(pg_cpu / answered * 1000, 3),
        "loadgen_ms": round(meter.usage.cpu_loadgen / answered * 1000, 3),
        "load_average": Path("/proc/loadavg").read_text().split()[:3],
    }
    print(json.dumps(found, ensure_ascii=False))


if __name__ == "__main__":
    main()
