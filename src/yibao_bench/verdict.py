"""The targets of issue #16, each with what this run measured and whether it was met.

Every row of the issue's table is reported in every run, met or not, for each settlement
transaction (2207, a hospital's outpatient bill; 2102, a pharmacy sale); the rows of earlier
issues that still hold (memory, the load) follow. Per-request costs are read from the same
measured pass as the throughput: CPU as cores used ÷ throughput, with PostgreSQL's counted for
the backends of the bench database only; WAL as what that database wrote (walmeter.py), or
the server-wide `pg_stat_wal` delta where the WAL could not be read back.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SETTLEMENTS = (("settlement", "2207"), ("settlement_2102", "2102"))


@dataclass(frozen=True)
class Goal:
    label: str
    now: str  # the issue's "now" column (issue #5's last report), "—" where it gave none
    target: str
    test: Callable[[float], bool] | None  # None: reported beside the targets, no goal of its own


def _at_most(limit: float) -> Callable[[float], bool]:
    return lambda value: operator.le(value, limit)


def _at_least(limit: float) -> Callable[[float], bool]:
    return lambda value: operator.ge(value, limit)


def _settlement_goals(infno: str) -> dict[str, Goal]:
    now = infno == "2207"  # the baseline was measured on 2207 only

    def was(text: str) -> str:
        return text if now else "—"

    return {
        "vs_pgbench": Goal(
            f"settlement {infno} TPS ÷ pgbench TPC-B TPS, 32 connections",
            was("0.13"),
            ">= 0.30",
            _at_least(0.30),
        ),
        "vs_floor": Goal(
            f"settlement {infno} TPS ÷ the floor's TPC-B-over-HTTP TPS",
            was("0.33"),
            ">= 0.75",
            _at_least(0.75),
        ),
        "p99_ms": Goal(
            f"settlement {infno} p99 at 32 connections (ms)", was("184"), "<= 50", _at_most(50)
        ),
        "wal_kb": Goal(f"WAL per {infno} (kB)", was("45.9"), "<= 15", _at_most(15)),
        "wal_records": Goal(f"WAL records per {infno}", was("48.7"), "<= 20", _at_most(20)),
        "wal_fpi": Goal(f"full-page images per {infno}", was("5.34"), "—", None),
        "pg_cpu_ms": Goal(f"PostgreSQL CPU per {infno} (ms)", was("2.4"), "<= 1.0", _at_most(1.0)),
        "worker_cpu_ms": Goal(f"worker CPU per {infno} (ms)", was("2.8"), "<= 1.2", _at_most(1.2)),
    }


QUERY_GOALS = {
    "query_vs_floor_read": Goal(
        "account query req/s ÷ the floor's keyed read req/s", "0.21", ">= 0.6", _at_least(0.6)
    ),
    "query_p99_ms": Goal(
        "account query p99 at {persons} persons (ms)", "149", "<= 30", _at_most(30)
    ),
}
KEPT_GOALS = {
    "worker_rss_mb": Goal(
        "server memory per worker under load (MB)", "133", "<= 500", _at_most(500)
    ),
    "load_seconds": Goal(
        "loading 1,000,000 persons (s, the shape described below)", "821", "<= 900", _at_most(900)
    ),
}


def yardstick_tps(results: dict[str, Any]) -> float | None:
    """The mean of the yardstick's runs that bracket the settlement passes."""
    runs = [results.get(k) or {} for k in ("pgbench", "pgbench_after")]
    found = [float(r["tps"]) for r in runs if r.get("tps") and "error" not in r]
    return sum(found) / len(found) if found else None


def _usable(w: Any) -> dict[str, Any]:
    return w if isinstance(w, dict) and "error" not in w else {}


def per_request(w: dict[str, Any], what: str) -> float | None:
    """A measured pass's cost per request: `cpu_server`, `cpu_postgres` (ms of CPU), or
    `wal_bytes`, `wal_records`, `wal_fpi` (this database's WAL when it was read back)."""
    if what.startswith("cpu_"):
        cores, throughput = w.get("cores_" + what[4:]), w.get("throughput")
        if cores is None or not throughput:
            return None
        return float(cores) * 1000 / float(throughput)
    count = w.get("requests") or w.get("transactions")
    if not count:
        return None
    own = w.get(f"db_{what}")
    value = own if own is not None else w.get(f"{what}_written")
    return None if value is None else float(value) / count


def wal_source(w: dict[str, Any]) -> str:
    return "database" if w.get("db_wal_bytes") is not None else "server"


def _measured(results: dict[str, Any]) -> dict[str, tuple[float | None, Goal, str]]:
    """key -> (value, goal, note)."""
    rows: dict[str, tuple[float | None, Goal, str]] = {}
    tps = yardstick_tps(results)
    floor = _usable(results.get("floor"))
    tpcb, read = _usable(floor.get("tpcb")), _usable(floor.get("read"))
    for key, infno in SETTLEMENTS:
        w = _usable(results.get(key))
        goals = _settlement_goals(infno)
        prefix = "settlement" if infno == "2207" else "settlement_2102"
        throughput = float(w["throughput"]) if w.get("throughput") else None
        wal_bytes = per_request(w, "wal_bytes")
        source = f"WAL: {'the bench database' if wal_source(w) == 'database' else 'server-wide'}"
        values: dict[str, tuple[float | None, str]] = {
            "vs_pgbench": (round(throughput / tps, 3) if throughput and tps else None, ""),
            "vs_floor": (
                round(throughput / tpcb["throughput"], 3)
                if throughput and tpcb.get("throughput")
                else None,
                "",
            ),
            "p99_ms": (_rounded(w.get("p99_ms"), 1), ""),
            "wal_kb": (round(wal_bytes / 1024, 1) if wal_bytes is not None else None, source),
            "wal_records": (_rounded(per_request(w, "wal_records"), 1), source),
            "wal_fpi": (_rounded(per_request(w, "wal_fpi"), 2), source),
            "pg_cpu_ms": (_rounded(per_request(w, "cpu_postgres"), 2), ""),
            "worker_cpu_ms": (_rounded(per_request(w, "cpu_server"), 2), ""),
        }
        for name, goal in goals.items():
            value, note = values[name]
            rows[f"{prefix}_{name}"] = (value, goal, note)
    query = _usable(results.get("query"))
    persons = (results.get("world") or {}).get("persons", 0)
    rows["query_vs_floor_read"] = (
        round(query["throughput"] / read["throughput"], 3)
        if query.get("throughput") and read.get("throughput")
        else None,
        QUERY_GOALS["query_vs_floor_read"],
        "",
    )
    p99 = QUERY_GOALS["query_p99_ms"]
    rows["query_p99_ms"] = (
        _rounded(query.get("p99_ms"), 1),
        Goal(p99.label.format(persons=f"{persons:,}"), p99.now, p99.target, p99.test),
        "",
    )
    rss = [
        v
        for k in ("settlement", "settlement_2102", "query")
        for v in _usable(results.get(k)).get("worker_rss_peak_mb", [])
    ]
    rows["worker_rss_mb"] = (max(rss) if rss else None, KEPT_GOALS["worker_rss_mb"], "")
    world = results.get("world") or {}
    if world.get("persons", 0) >= 1_000_000 and world.get("timings", {}).get("total"):
        rows["load_seconds"] = (
            float(world["timings"]["total"]),
            KEPT_GOALS["load_seconds"],
            f"loaded {str(world.get('loaded_at', '?'))[:10]}",
        )
    return rows


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def verdict(results: dict[str, Any]) -> dict[str, Any]:
    """Every target with the measured value ("value" None: not measured in this run) and
    whether it was met ("met" None: no goal of its own, or not measured)."""
    found: dict[str, Any] = {}
    for key, (value, goal, note) in _measured(results).items():
        met = None if value is None or goal.test is None else bool(goal.test(float(value)))
        found[key] = {
            "label": goal.label,
            "now": goal.now,
            "value": value,
            "target": goal.target,
            "met": met,
            "note": note,
        }
    return found
