"""The report's tables: the verdict, the workloads, and what each request cost and who else
used the machine during each pass."""

from __future__ import annotations

from typing import Any

from yibao_bench.verdict import per_request, wal_source

FLOOR_ROWS = (
    ("tpcb", "floor: pgbench's TPC-B transaction over HTTP, no yibao code"),
    ("read", "floor: one keyed read over HTTP, no yibao code"),
)


def ms(value: Any) -> str:
    return "—" if value is None else f"{float(value):.1f}"


def _fmt(value: Any, digits: int = 2) -> str:
    return "—" if value is None else f"{float(value):,.{digits}f}"


def verdict_table(verdict: dict[str, Any]) -> list[str]:
    lines = [
        '| target (issue #16; memory and load from #5) | #16\'s "now" | measured | goal | met |',
        "|---|---:|---:|---:|:---:|",
    ]
    for found in verdict.values():
        value = found.get("value")
        shown = "not measured" if value is None else f"{value:,}"
        met = {True: "yes", False: "**no**", None: "—"}[found.get("met")]
        note = f" ({found['note']})" if found.get("note") else ""
        lines.append(
            f"| {found.get('label')}{note} | {found.get('now', '—')} | {shown}"
            f" | {found.get('target')} | {met} |"
        )
    return lines


def workload_row(name: str, w: dict[str, Any] | None) -> str:
    if not w:
        return f"| {name} | not run | | | | | |"
    if "error" in w:
        return f"| {name} | failed: {str(w['error'])[:120]} | | | | | |"
    rss = w.get("worker_rss_peak_mb") or []
    return (
        f"| {name} | {w.get('throughput', 0):,.0f} | {ms(w.get('p50_ms'))} | {ms(w.get('p99_ms'))}"
        f" | {w.get('ok', w.get('transactions', 0)):,} / {w.get('failed', 0):,}"
        f" | {', '.join(f'{v:.0f}' for v in rss) or '—'}"
        f" | {w.get('cores_server', '—')} / {w.get('cores_postgres', '—')} / {w.get('cores_loadgen', '—')} |"
    )


def pgbench_row(when: str, pg: dict[str, Any]) -> str:
    return (
        f"| pgbench TPC-B {when} (scale {pg.get('scale', '—')}, -c {pg.get('clients', '—')}"
        f" -j {pg.get('threads', '—')}, prepared) | {pg.get('tps', 0):,.0f}"
        f" | {ms(pg.get('p50_ms'))} | {ms(pg.get('p99_ms'))}"
        f" | {pg.get('transactions', 0):,} / 0 | — | — / {pg.get('cores_postgres', '—')}"
        f" / {pg.get('cores_loadgen', '—')} |"
    )


def _usable(w: Any) -> dict[str, Any]:
    return w if isinstance(w, dict) and "error" not in w else {}


def passes(results: dict[str, Any], persons: int) -> list[tuple[str, dict[str, Any]]]:
    """Every measured pass of the run, in order, with its name."""
    floor = _usable(results.get("floor"))
    found = [
        ("pgbench TPC-B (before)", _usable(results.get("pgbench"))),
        ("settlement 2207", _usable(results.get("settlement"))),
        ("settlement 2102", _usable(results.get("settlement_2102"))),
        ("pgbench TPC-B (right after)", _usable(results.get("pgbench_after"))),
        *((name, _usable(floor.get(kind))) for kind, name in FLOOR_ROWS),
        (f"account query, {persons:,} persons", _usable(results.get("query"))),
    ]
    growth = _usable(results.get("growth_query"))
    if growth:
        small = (results.get("growth_world") or {}).get("persons", 0)
        found.append((f"account query, {small:,} persons", growth))
    return [(name, w) for name, w in found if w]


def cpu_table(results: dict[str, Any], persons: int) -> list[str]:
    """CPU milliseconds each side spent per request: where the two cores went."""
    lines = [
        "CPU spent per request or transaction (cores used ÷ throughput), on this 2-core machine."
        " PostgreSQL's is that of the backends serving the pass's database (the server is"
        " shared with other databases); the last column is every PostgreSQL process's, theirs"
        " included:",
        "",
        "| workload | yibao workers ms | PostgreSQL ms | load generator ms | all PostgreSQL ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, w in passes(results, persons):
        if "tps" in w and "throughput" not in w:
            w = {**w, "throughput": w["tps"]}
        server = "—" if name.startswith("pgbench") else _fmt(per_request(w, "cpu_server"))
        lines.append(
            f"| {name} | {server} | {_fmt(per_request(w, 'cpu_postgres'))}"
            f" | {_fmt(per_request(w, 'cpu_loadgen'))}"
            f" | {_fmt(per_request(w, 'cpu_postgres_all'))} |"
        )
    return lines


def wal_table(results: dict[str, Any], persons: int) -> list[str]:
    """What each transaction or request made PostgreSQL write ahead, as its own database's
    records (read back with pg_waldump) and as the server-wide `pg_stat_wal` delta."""
    lines = [
        "WAL written per request or transaction: the pass's own database's records, read back"
        " from the WAL with `pg_waldump` (method below), and beside them the server-wide"
        " `pg_stat_wal` delta over the pass, which also holds what other databases of the"
        " shared server wrote meanwhile:",
        "",
        "| workload | WAL kB | records | full-page images | pg_stat_wal kB | pg_stat_wal records"
        " | checkpoints in the pass |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, w in passes(results, persons):
        count = w.get("requests") or w.get("transactions")
        if not count or "wal_bytes_written" not in w:
            continue
        own = wal_source(w) == "database"
        lines.append(
            f"| {name} | {_fmt(w['db_wal_bytes'] / count / 1024, 1) if own else '—'}"
            f" | {_fmt(w['db_wal_records'] / count, 1) if own else '—'}"
            f" | {_fmt(w['db_wal_fpi'] / count, 2) if own else '—'}"
            f" | {_fmt(w['wal_bytes_written'] / count / 1024, 1)}"
            f" | {_fmt(w['wal_records_written'] / count, 1)}"
            f" | {w.get('checkpoints', 0)} |"
        )
    errors = {str(w["db_wal_error"]) for _, w in passes(results, persons) if w.get("db_wal_error")}
    if errors:
        lines += ["", f"The WAL could not be read back for some passes: {'; '.join(errors)}."]
    return lines


def neighbours_table(results: dict[str, Any], persons: int) -> list[str]:
    """Who else used the machine during each pass: its load average and the cores of every
    process that is not the server, its database backends or the load generator."""
    lines = [
        "The machine during each pass (other helpers' work may share these 2 cores and this"
        " PostgreSQL): the 1-minute load average at the start and the end of the pass, the"
        " cores the whole machine was busy, and the cores outside the measured processes (the"
        " server's workers, the backends of the pass's database, wrk or pgbench) — PostgreSQL's"
        " checkpointer, WAL writer and autovacuum, the kernel's writeback, and any neighbour:",
        "",
        "| pass | load average (start → end) | machine busy cores | cores outside the measured processes |",
        "|---|---:|---:|---:|",
    ]
    for name, w in passes(results, persons):
        load = w.get("load_average") or []
        shown = " → ".join(f"{v:.1f}" for v in load) if load else "—"
        lines.append(
            f"| {name} | {shown} | {w.get('cores_machine', '—')} | {w.get('cores_others', '—')} |"
        )
    return lines


def wal_kinds(results: dict[str, Any]) -> list[str]:
    """Which resource managers a settlement's WAL records come from (heap rows, B-tree entries,
    commits …): what to cut to cut the records."""
    lines = []
    for key, infno in (("settlement", "2207"), ("settlement_2102", "2102")):
        w = _usable(results.get(key))
        kinds = w.get("db_wal_by_rmgr") or {}
        count = w.get("requests")
        if kinds and count:
            shown = ", ".join(f"{k} {n / count:.1f}" for k, n in kinds.items())
            lines.append(f"WAL records per {infno} by kind: {shown}.")
    return lines


def profile(title: str, found: dict[str, Any] | None) -> list[str]:
    if not found:
        return [f"*{title}: no profile (py-spy missing or the pass was skipped).*", ""]
    lines = [f"**{title}** — {found['samples']:,} py-spy samples of one worker:", ""]
    lines.append("| where the worker's time went (by innermost known frame) | share |")
    lines.append("|---|---:|")
    lines += [f"| {area} | {share}% |" for area, share in found["areas"][:10]]
    lines.append("")
    lines.append("| yibao function (inclusive) | share |")
    lines.append("|---|---:|")
    lines += [f"| `{name}` | {share}% |" for name, share in found["yibao_inclusive"][:10]]
    lines.append("")
    return lines


def _costs(w: dict[str, Any]) -> dict[str, float | None]:
    if "tps" in w and "throughput" not in w:
        w = {**w, "throughput": w["tps"]}
    return {
        "worker": per_request(w, "cpu_server"),
        "postgres": per_request(w, "cpu_postgres"),
        "loadgen": per_request(w, "cpu_loadgen"),
        "records": per_request(w, "wal_records"),
    }


def _times(a: float | None, b: float | None) -> str:
    return f"{a / b:.1f}×" if a is not None and b else "—"


def limits(results: dict[str, Any], cores: int) -> list[str]:
    """What the run's own numbers say limits each workload: its CPU per request on each side
    against the yardstick's, the throughput those costs allow on the machine's cores, and the
    share of the cores others took meanwhile."""
    floor = _usable(results.get("floor"))
    tpcb, read = _usable(floor.get("tpcb")), _usable(floor.get("read"))
    pg = _usable(results.get("pgbench"))
    rows = [
        ("Settlement 2207", _usable(results.get("settlement")), tpcb, "the floor's TPC-B"),
        ("Settlement 2102", _usable(results.get("settlement_2102")), tpcb, "the floor's TPC-B"),
        ("Account query", _usable(results.get("query")), read, "the floor's keyed read"),
    ]
    lines = []
    for name, w, ref, ref_name in rows:
        if not w.get("throughput"):
            continue
        c, r, p = _costs(w), _costs(ref), _costs(pg)
        spent = sum(v for k, v in c.items() if k != "records" and v is not None)
        ceiling = f"{cores * 1000 / spent:,.0f}" if spent else "—"
        others = w.get("cores_others")
        text = (
            f"- **{name}**: {w['throughput']:,.0f}/s. Per request the workers spent"
            f" {_fmt(c['worker'])} ms of CPU ({_times(c['worker'], r['worker'])} {ref_name}'s"
            f" {_fmt(r['worker'])} ms) and PostgreSQL {_fmt(c['postgres'])} ms"
            f" ({_times(c['postgres'], r['postgres'])} {ref_name}'s {_fmt(r['postgres'])} ms"
        )
        if name.startswith("Settlement"):
            text += (
                f", {_times(c['postgres'], p['postgres'])} pgbench TPC-B's"
                f" {_fmt(p['postgres'])} ms); {_fmt(c['records'], 1)} WAL records"
                f" ({_fmt(p['records'], 1)} for TPC-B)"
            )
        else:
            text += f"); buffer hits {w.get('buffer_hit_pct', '—')}%"
        text += (
            f". With every core on this workload alone, those costs (wrk's included) would allow"
            f" about {ceiling}/s; processes outside the measured ones (PostgreSQL's background"
            f" work, the kernel, any neighbour) took {others if others is not None else '—'}"
            f" of the {cores} cores during the pass (load average"
            f" {' → '.join(f'{v:.1f}' for v in w.get('load_average') or []) or '—'})."
        )
        lines.append(text)
    return lines
