"""docs/benchmarks.md, written from one run's results (the command regenerates it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from yibao_bench.run import yardstick_tps

_TARGET_NAMES = {
    "settlement_vs_pgbench": "settlement TPS / pgbench TPC-B TPS",
    "settlement_p99_ms": "settlement p99 at 32 connections (ms)",
    "query_throughput": "account query throughput (req/s)",
    "query_p99_ms": "account query p99 (ms)",
    "query_p99_growth": "query p99 at the large world / at the small world",
    "worker_rss_mb": "server memory per worker under load (MB)",
    "load_seconds": "loading 1,000,000 persons (s, the shape described below)",
}


def _ms(value: Any) -> str:
    return "—" if value is None else f"{float(value):.1f}"


def _workload_row(name: str, w: dict[str, Any] | None) -> str:
    if not w:
        return f"| {name} | not run | | | | | |"
    if "error" in w:
        return f"| {name} | failed: {str(w['error'])[:120]} | | | | | |"
    rss = w.get("worker_rss_peak_mb") or []
    return (
        f"| {name} | {w.get('throughput', 0):,.0f} | {_ms(w.get('p50_ms'))} | {_ms(w.get('p99_ms'))}"
        f" | {w.get('ok', w.get('transactions', 0)):,} / {w.get('failed', 0):,}"
        f" | {', '.join(f'{v:.0f}' for v in rss) or '—'}"
        f" | {w.get('cores_server', '—')} / {w.get('cores_postgres', '—')} / {w.get('cores_loadgen', '—')} |"
    )


def _per_request(cores: Any, throughput: Any) -> str:
    try:
        return f"{float(cores) * 1000 / float(throughput):.2f}"
    except (TypeError, ValueError, ZeroDivisionError):
        return "—"


def _cpu_table(
    pg: dict[str, Any], setl: dict[str, Any], query: dict[str, Any], floor: dict[str, Any]
) -> list[str]:
    """CPU milliseconds each side spent per request: where the two cores went."""
    lines = [
        "CPU spent per request or transaction (cores used ÷ throughput), on this 2-core machine:",
        "",
        "| workload | yibao workers ms | PostgreSQL ms | load generator ms |",
        "|---|---:|---:|---:|",
        f"| pgbench TPC-B | — | {_per_request(pg.get('cores_postgres'), pg.get('tps'))}"
        f" | {_per_request(pg.get('cores_loadgen'), pg.get('tps'))} |",
    ]
    rows = [("settlement 2207", setl), ("account query", query)]
    rows += [(name, floor.get(kind) or {}) for kind, name in _FLOOR_ROWS]
    for name, w in rows:
        if not w or "error" in w:
            continue
        t = w.get("throughput")
        lines.append(
            f"| {name} | {_per_request(w.get('cores_server'), t)}"
            f" | {_per_request(w.get('cores_postgres'), t)} | {_per_request(w.get('cores_loadgen'), t)} |"
        )
    return lines


_FLOOR_ROWS = (
    ("tpcb", "floor: pgbench's TPC-B transaction over HTTP, no yibao code"),
    ("read", "floor: one keyed read over HTTP, no yibao code"),
)


def _floor_lines(floor: dict[str, Any], results: dict[str, Any]) -> list[str]:
    """What the stack alone serves, beside what yibao serves on it (floor.py)."""
    tpcb, read = floor.get("tpcb") or {}, floor.get("read") or {}
    tps = yardstick_tps(results)
    lines = []
    if tpcb.get("throughput") and tps:
        lines.append(
            "The stack's floor: pgbench's own TPC-B transaction, served over HTTP by the same"
            " uvicorn workers, FastAPI and asyncpg with no yibao code, reached"
            f" {tpcb['throughput'] / tps:.3f} of pgbench ({tpcb['throughput']:,.0f} TPS): the"
            " most a service on this stack and machine could reach while doing at least"
            " TPC-B's work per request."
        )
    if read.get("throughput"):
        lines.append(
            f"One keyed read over HTTP on the same stack served {read['throughput']:,.0f}"
            f" requests/s (p99 {_ms(read.get('p99_ms'))} ms): the ceiling for any"
            " authenticated query, which needs at least that round trip."
        )
    return lines


def _pgbench_row(when: str, pg: dict[str, Any]) -> str:
    return (
        f"| pgbench TPC-B {when} (scale {pg.get('scale', '—')}, -c {pg.get('clients', '—')}"
        f" -j {pg.get('threads', '—')}, prepared) | {pg.get('tps', 0):,.0f}"
        f" | {_ms(pg.get('p50_ms'))} | {_ms(pg.get('p99_ms'))}"
        f" | {pg.get('transactions', 0):,} / 0 | — | — / {pg.get('cores_postgres', '—')}"
        f" / {pg.get('cores_loadgen', '—')} |"
    )


def _wal_table(pg: dict[str, Any], setl: dict[str, Any], query: dict[str, Any]) -> list[str]:
    """What each transaction or request made PostgreSQL write ahead: its bytes, and the full-page
    images among its records (a page's first change after a checkpoint logs the whole 8 kB)."""
    rows = [
        ("pgbench TPC-B", pg, pg.get("transactions")),
        ("settlement 2207", setl, setl.get("requests")),
        ("account query", query, query.get("requests")),
    ]
    lines = [
        "WAL written per request or transaction (the server's `pg_stat_wal` over each pass):",
        "",
        "| workload | WAL kB | records | full-page images | checkpoints in the pass |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, w, count in rows:
        if not count or "wal_bytes_written" not in w:
            continue
        lines.append(
            f"| {name} | {w['wal_bytes_written'] / count / 1024:.1f}"
            f" | {w['wal_records_written'] / count:.1f} | {w['wal_fpi_written'] / count:.2f}"
            f" | {w.get('checkpoints', 0)} |"
        )
    return lines if len(lines) > 4 else []


def _profile(title: str, profile: dict[str, Any] | None) -> list[str]:
    if not profile:
        return [f"*{title}: no profile (py-spy missing or the pass was skipped).*", ""]
    lines = [f"**{title}** — {profile['samples']:,} py-spy samples of one worker:", ""]
    lines.append("| where the worker's time went (by innermost known frame) | share |")
    lines.append("|---|---:|")
    lines += [f"| {area} | {share}% |" for area, share in profile["areas"][:10]]
    lines.append("")
    lines.append("| yibao function (inclusive) | share |")
    lines.append("|---|---:|")
    lines += [f"| `{name}` | {share}% |" for name, share in profile["yibao_inclusive"][:10]]
    lines.append("")
    return lines


def render(results: dict[str, Any], notes: str = "") -> str:
    m = results["machine"]
    v = results["versions"]
    world = results.get("world") or {}
    growth_world = results.get("growth_world") or {}
    pg = results.get("pgbench") or {}
    after = results.get("pgbench_after") or {}
    setl = results.get("settlement") or {}
    query = results.get("query") or {}
    growth = results.get("growth_query") or {}
    floor = {k: w for k, w in (results.get("floor") or {}).items() if isinstance(w, dict)}
    opts = results.get("options", {})
    out = [
        "# Benchmarks",
        "",
        "Regenerated by `scripts/bench` (`yibao-bench run --report docs/benchmarks.md`); the raw",
        "numbers of each run are kept in `var/bench/results-*.json`. Method and the reasons behind it",
        "are at the end.",
        "",
        f"Run {results['started_at']} → {results.get('finished_at', '?')} (UTC).",
        "",
        "## Machine and versions",
        "",
        f"- {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB memory, Linux {m['kernel']}",
        f"- Python {m['python']}, PostgreSQL {v.get('postgresql')}, "
        + ", ".join(
            f"{k} {v[k]}"
            for k in ("fastapi", "uvicorn", "sqlalchemy", "asyncpg", "pydantic")
            if k in v
        ),
        f"- {v.get('wrk', 'wrk ?')}; {v.get('pgbench', 'pgbench ?')}; {v.get('py-spy', 'py-spy not installed')}",
        f"- server: uvicorn, {opts.get('workers')} workers (one per core),"
        f" {results.get('server', {}).get('pool_size', '?')} database connections each, uvloop +"
        " httptools, no access log, YIBAO_ENVIRONMENT=production; load: wrk "
        f"-c{opts.get('connections')} -t{opts.get('threads')}, {opts.get('seconds')} s measured after"
        f" each sampled person's first touch and {opts.get('warmup')} s of warm-up",
        *(
            [
                "- PostgreSQL as configured: "
                + ", ".join(f"{k} {v}" for k, v in results["postgres_settings"].items())
            ]
            if results.get("postgres_settings")
            else []
        ),
        "",
        "## Verdict",
        "",
        "| target | measured | goal | met |",
        "|---|---:|---:|:---:|",
    ]
    for key, found in results.get("verdict", {}).items():
        out.append(
            f"| {_TARGET_NAMES.get(key, key)} | {found['value']} | {found['target']} |"
            f" {'yes' if found['met'] else '**no**'} |"
        )
    ratio = results.get("verdict", {}).get("settlement_vs_pgbench", {}).get("value")
    out += [
        "",
        f"**Headline: settlement TPS / pgbench TPS = {ratio if ratio is not None else '—'}**"
        + (
            f" (pgbench: the mean of {pg.get('tps', 0):,.0f} before the settlement pass and"
            f" {after.get('tps', 0):,.0f} right after it)"
            if after.get("tps") and pg.get("tps")
            else ""
        ),
        "",
        "## Workloads",
        "",
        "| workload | throughput (/s) | p50 ms | p99 ms | ok / failed | worker RSS peak MB | cores: server / PostgreSQL / load generator |",
        "|---|---:|---:|---:|---:|---:|---:|",
        _pgbench_row("before", pg),
        _workload_row(f"settlement 2207, {world.get('persons', 0):,} persons", setl),
        *([_pgbench_row("right after", after)] if after else []),
        _workload_row(f"account query, {world.get('persons', 0):,} persons", query),
    ]
    if growth or growth_world:
        out.append(
            _workload_row(f"account query, {growth_world.get('persons', 0):,} persons", growth)
        )
    for kind, name in _FLOOR_ROWS:
        if floor.get(kind):
            out.append(_workload_row(name, floor[kind]))
    for w, label in ((query, world), (growth, growth_world)):
        if w.get("first_touch"):
            name = f"first touch of each sampled person, {label.get('persons', 0):,} persons"
            out.append(_workload_row(name, w["first_touch"]))
    out.append("")
    if setl:
        out.append(
            f"Settlement: {setl.get('commits_per_s', '—')} commits/s in the bench database, buffer hits"
            f" {setl.get('buffer_hit_pct', '—')}%, {setl.get('blocks_read_per_s', '—')} blocks read/s."
        )
    if query:
        out.append(
            f"Query ({world.get('persons', 0):,}): buffer hits {query.get('buffer_hit_pct', '—')}%,"
            f" {query.get('blocks_read_per_s', '—')} blocks read/s; {query.get('tokens', 0):,} random persons."
        )
    if growth:
        out.append(
            f"Query ({growth_world.get('persons', 0):,}): buffer hits {growth.get('buffer_hit_pct', '—')}%,"
            f" {growth.get('blocks_read_per_s', '—')} blocks read/s."
        )
        if query.get("p50_ms") and growth.get("p50_ms"):
            out.append(
                "Growth at the median, for comparison with the p99 ratio (a tail that a shared"
                f" VM's neighbours move): p50 at the large world / at the small world"
                f" = {query['p50_ms'] / growth['p50_ms']:.2f}."
            )
    out += _floor_lines(floor, results)
    out += ["", *_cpu_table(pg, setl, query, floor), ""]
    wal = _wal_table(pg, setl, query)
    out += [*wal, ""] if wal else []
    out += ["## The data", ""]
    for label, w in (("large world", world), ("small world", growth_world)):
        if not w:
            continue
        rows = w.get("rows", {})
        sizes = w.get("sizes", {})
        t = w.get("timings", {})
        out.append(
            f"- {label}: {w.get('persons', 0):,} persons, {w.get('months')} months of history,"
            f" loaded in {t.get('total')} s (generate + COPY {t.get('generate_and_copy')} s, keys and"
            f" indexes {t.get('keys_and_indexes')} s, foreign keys {t.get('foreign_keys')} s,"
            f" validation {str(t['validate']) + ' s' if 'validate' in t else 'skipped'},"
            f" VACUUM/ANALYZE {t.get('analyze')} s) with"
            f" {w.get('jobs')} generator processes."
        )
        out.append(
            "  Rows: "
            + ", ".join(f"{k} {n:,}" for k, n in sorted(rows.items(), key=lambda kv: -kv[1]))
            + ". Largest tables with their indexes: "
            + ", ".join(f"{k} {n / 2**30:.1f} GB" for k, n in list(sizes.items())[:5])
            + "."
        )
    out += ["", "## What limits each workload", ""]
    out += _profile("Settlement (2207)", setl.get("profile"))
    out += _profile("Account query", query.get("profile"))
    if notes:
        out += [notes.strip(), ""]
    return "\n".join(out) + "\n"


def write_report(results: dict[str, Any], path: Path) -> None:
    notes_file = path.with_name("benchmarks-notes.md")
    notes = notes_file.read_text() if notes_file.exists() else ""
    path.write_text(render(results, notes))
