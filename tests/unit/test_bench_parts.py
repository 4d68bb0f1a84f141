"""The benchmark's pure parts: the binary COPY encoder, the ID numbers it generates, the profile
summary, the WAL count, the verdict and the report. (The load and the run themselves are in
tests/integration/test_bench.py.)"""

from __future__ import annotations

import struct
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from yibao.kernel.idnumber import parse_id_number
from yibao_bench import copybin as cb
from yibao_bench import history, shape
from yibao_bench.report import KEPT_MARKER, kept_sections, render, write_report
from yibao_bench.server import summarise_profile
from yibao_bench.verdict import verdict
from yibao_bench.walmeter import count_database
from yibao_bench.yardstick import _percentile


def _decode(data: bytes) -> list[list[bytes | None]]:
    """Read PostgreSQL's binary COPY rows back (the inverse of cb.encode)."""
    rows, at = [], 0
    while at < len(data):
        (count,) = struct.unpack_from(">h", data, at)
        at += 2
        row: list[bytes | None] = []
        for _ in range(count):
            (length,) = struct.unpack_from(">i", data, at)
            at += 4
            if length < 0:
                row.append(None)
                continue
            row.append(data[at : at + length])
            at += length
        rows.append(row)
    return rows


def test_encode_lays_out_fixed_variable_and_null_fields() -> None:
    n = 4
    names = cb.Vocabulary(["上海市第一人民医院", "药房", "x"])
    fields = [
        cb.int8(np.array([1, -2, 3, 2**40])),
        cb.text(
            cb.constant("setl:", n),
            cb.digits(np.array([0, 7, 42, 12345]), 6, pad=False),
            cb.constant(":own", n),
        ),
        cb.text(names.pick(np.array([0, 1, 2, 1]))),
        cb.int8(np.array([5, 6, 7, 8]), null=np.array([False, True, False, True])),
        cb.pg_date(np.array([0, 1, -1, 366])),
        cb.timestamptz(np.full(n, cb.micros_since_2000(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)))),
        cb.int4(np.array([-1, 0, 1, 2])),
    ]
    rows = _decode(cb.encode(fields, n))
    assert len(rows) == n
    assert [struct.unpack(">q", r[0])[0] for r in rows] == [1, -2, 3, 2**40]  # type: ignore[arg-type]
    assert [r[1] for r in rows] == [b"setl:0:own", b"setl:7:own", b"setl:42:own", b"setl:12345:own"]
    assert [r[2].decode() for r in rows] == ["上海市第一人民医院", "药房", "x", "药房"]  # type: ignore[union-attr]
    assert [r[3] for r in rows] == [struct.pack(">q", 5), None, struct.pack(">q", 7), None]
    assert [struct.unpack(">i", r[4])[0] for r in rows] == [0, 1, -1, 366]  # type: ignore[arg-type]
    assert (
        struct.unpack(">q", rows[0][5])[0]
        == (26 * 365 + 7 + 1) * 86_400_000_000
        + (  # type: ignore[arg-type]
            3 * 3600 + 4 * 60 + 5
        )
        * 1_000_000
    )
    assert [struct.unpack(">i", r[6])[0] for r in rows] == [-1, 0, 1, 2]  # type: ignore[arg-type]


def test_encode_of_nothing_is_empty_and_fixed_bytes_must_match() -> None:
    assert cb.encode([cb.int8(np.array([], dtype=np.int64))], 0) == b""
    with pytest.raises(ValueError):
        cb.fixed_bytes([b"ab", b"c"], 2)
    assert cb.days_since_2000(date(2000, 1, 31)) == 30


def _world(persons: int = 50) -> shape.World:
    region = shape.RegionShape(
        admdvs="310000",
        districts=("310101", "310104"),
        credit_rate_bp=200,
        retiree_credit_fen=16300,
        deductible_fen=150000,
        fund_ratio_bp=7500,
        retiree_fund_ratio_bp=8500,
        class_b_selfpay_bp=1000,
        first_employer_id=1,
        employers=3,
        hospitals=(0,),
        pharmacies=(1,),
    )
    return shape.World(
        seed=1,
        persons=persons,
        first_month=date(2024, 1, 1),
        months=12,
        item_months=2,
        settlement_months=6,
        loaded_at=datetime(2025, 1, 5, tzinfo=UTC),
        regions=(region,),
        institutions=(
            shape.InstitutionShape("H31010100001", "上海市第一人民医院", "H"),
            shape.InstitutionShape("P31010100001", "益丰大药房上海第1店", "P"),
        ),
        items=(
            shape.ItemShape("A", "甲药", "01", 1000, None),
            shape.ItemShape("B", "乙药", "02", 2000, 1500),
            shape.ItemShape("C", "丙药", "03", 500, None),
        ),
    )


def test_generated_id_numbers_are_valid_and_unique() -> None:
    index = np.arange(0, 20_000, dtype=np.int64)
    numbers = [bytes(row).decode() for row in shape.id_numbers(index, _world())]
    assert len(set(numbers)) == len(numbers)
    for number in numbers[:2_000]:
        assert parse_id_number(number).value == number


def test_a_chunk_keeps_30_entries_a_year_and_cuts_old_settlement_rows() -> None:
    from yibao.kernel.pii import PersonalDataCipher

    world = _world()
    chunk = history.generate(world, PersonalDataCipher(b"k" * 32), 0, 50)
    assert world.entries_per_person == 30
    assert chunk.rows["ledger_entries"] == 50 * 30
    assert chunk.rows["contributions"] == 50 * 12
    # 18 settlements a year; rows only for the last 6 months (9), items for the last 2 (3 each).
    assert chunk.rows["settlements"] == 50 * 9
    assert chunk.rows["settlement_items"] == 50 * 3 * 3
    assert chunk.rows["yearly_accumulations"] == 50
    assert len(_decode(b"".join(chunk.data["persons"]))) == 50


def test_profile_summary_groups_samples_by_area(tmp_path: Path) -> None:
    raw = tmp_path / "spy.txt"
    raw.write_text(
        "run (uvicorn/server.py:1);dispatch (yibao/fsi/router.py:40);execute (asyncpg/connection.py:9) 6\n"
        "run (uvicorn/server.py:1);dispatch (yibao/fsi/router.py:40);settle (yibao/settlement/service/settling.py:3) 3\n"
        "run (uvicorn/server.py:1) 1\n"
    )
    found = summarise_profile(raw)
    assert found["samples"] == 10
    assert found["areas"][0] == ("asyncpg (driver, protocol)", 60.0)
    assert ("yibao code", 30.0) in found["areas"]
    assert found["yibao_inclusive"][0] == ("dispatch (yibao/fsi/router.py)", 90.0)
    assert summarise_profile(tmp_path / "missing.txt") == {}


def _results() -> dict[str, Any]:
    pass_ = {"cores_server": 1.0, "cores_postgres": 0.8, "load_average": [3.5, 4.0]}
    return {
        "started_at": "2026-11-25T10:20:00+00:00",
        "finished_at": "2026-11-25T10:30:00+00:00",
        "machine": {
            "cpu": "AMD EPYC",
            "cores": 2,
            "memory_gb": 23.5,
            "kernel": "6",
            "python": "3.11",
        },
        "versions": {"postgresql": "15.20"},
        "options": {
            "workers": "2",
            "connections": "32",
            "threads": "2",
            "seconds": "30",
            "warmup": "5",
        },
        "world": {
            "persons": 1_000_000,
            "rows": {"ledger_entries": 90},
            "timings": {"total": 950.0},
            "sizes": {},
            "loaded_at": "2026-12-08T02:00:00+00:00",
            "upgrades": [{"from": ["0011"], "to": ["0015_x"], "seconds": 3.2, "at": "t"}],
        },
        "pgbench": {"tps": 2000.0, "p50_ms": 10.0, "p99_ms": 40.0, "transactions": 60000},
        "pgbench_after": {"tps": 1000.0, "transactions": 30000},
        "settlement": {
            **pass_,
            "throughput": 500.0,
            "requests": 15000,
            "p50_ms": 20.0,
            "p99_ms": 45.04,
            "ok": 15000,
            "failed": 0,
            "worker_rss_peak_mb": [120.0, 130.0],
            "wal_bytes_written": 15000 * 40 * 1024,
            "wal_records_written": 15000 * 60,
            "wal_fpi_written": 15000,
            "db_wal_bytes": 15000 * 12 * 1024,
            "db_wal_records": 15000 * 30,
            "db_wal_fpi": 15000 * 2,
            "db_wal_by_rmgr": {"Btree": 15000 * 18, "Heap": 15000 * 12},
        },
        "settlement_2102": {"error": "pharmacies refused"},
        "floor": {"tpcb": {"throughput": 800.0}, "read": {"throughput": 2000.0}},
        "query": {**pass_, "throughput": 1000.0, "p99_ms": 31.0, "requests": 30000},
    }


def test_verdict_reports_every_row_of_the_issue_measured_or_not() -> None:
    found = verdict(_results())
    for infno in ("", "_2102"):
        for row in (
            "vs_pgbench",
            "vs_floor",
            "p99_ms",
            "wal_kb",
            "wal_records",
            "wal_fpi",
            "pg_cpu_ms",
            "worker_cpu_ms",
        ):
            assert f"settlement{infno}_{row}" in found
    setl = {k: v["value"] for k, v in found.items()}
    met = {k: v["met"] for k, v in found.items()}
    assert setl["settlement_vs_pgbench"] == round(500 / 1500, 3)
    assert setl["settlement_vs_floor"] == 0.625 and met["settlement_vs_floor"] is False
    assert setl["settlement_p99_ms"] == 45.0 and met["settlement_p99_ms"] is True
    # The database's own WAL, not the server-wide delta.
    assert setl["settlement_wal_kb"] == 12.0 and met["settlement_wal_kb"] is True
    assert setl["settlement_wal_records"] == 30.0 and met["settlement_wal_records"] is False
    assert setl["settlement_wal_fpi"] == 2.0 and met["settlement_wal_fpi"] is None
    assert setl["settlement_pg_cpu_ms"] == 1.6 and setl["settlement_worker_cpu_ms"] == 2.0
    # A pass that failed is reported as not measured, not left out.
    assert setl["settlement_2102_vs_pgbench"] is None and met["settlement_2102_p99_ms"] is None
    assert setl["query_vs_floor_read"] == 0.5 and met["query_p99_ms"] is False
    assert found["query_p99_ms"]["label"] == "account query p99 at 1,000,000 persons (ms)"
    assert setl["worker_rss_mb"] == 130.0 and met["load_seconds"] is False


def test_percentile_and_report() -> None:
    values = list(range(1, 101))
    assert _percentile(values, 50) == 50
    assert _percentile(values, 99) == 99
    assert _percentile([], 99) == 0.0
    results = _results()
    results["verdict"] = verdict(results)
    text = render(results, notes="## Method\n\nnotes here")
    assert "**Headline: settlement TPS / pgbench TPS = 0.333 (2207), — (2102)**" in text
    assert (
        "| settlement 2207 TPS ÷ pgbench TPC-B TPS, 32 connections | 0.13 | 0.333 | >= 0.30"
        " | yes |" in text
    )
    assert "| WAL per 2207 (kB) (WAL: the bench database) | 45.9 | 12.0 | <= 15 | yes |" in text
    assert "| settlement 2102 p99 at 32 connections (ms) | — | not measured | <= 50 | — |" in text
    assert "| settlement 2102, 1,000,000 persons | failed: pharmacies refused |" in text
    assert "| settlement 2207 | 12.0 | 30.0 | 2.00 | 40.0 | 60.0 | 0 |" in text
    assert "WAL records per 2207 by kind: Btree 18.0, Heap 12.0." in text
    assert "| settlement 2207 | 3.5 → 4.0 |" in text
    assert "Migrated since its load, not reloaded: 0011 → 0015_x" in text
    assert text.rstrip().endswith("notes here")


def test_the_report_keeps_the_sections_it_does_not_make() -> None:
    old = (
        "# Benchmarks\n\n## Verdict\n\nold verdict\n\n## Method\n\nold method\n\n"
        "## Monthly crediting\n\nkept\n\n### a table\n\nkept too\n\n## Reconciliation\n\nalso\n"
    )
    new = "# Benchmarks\n\n## Verdict\n\nnew\n\n## Method\n\nnew method\n"
    kept = kept_sections(old, new)
    assert kept.startswith("## Monthly crediting\n\nkept\n\n### a table\n\nkept too")
    assert kept.rstrip().endswith("## Reconciliation\n\nalso")
    assert "old" not in kept
    # Once written, the marker decides: all that follows it, whatever its headings.
    marked = new + "\n" + KEPT_MARKER + "\n\n## Method\n\nan appended method of another bench\n"
    assert kept_sections(marked, new) == "## Method\n\nan appended method of another bench"


def test_write_report_keeps_what_follows_the_marker(tmp_path: Path) -> None:
    path = tmp_path / "benchmarks.md"
    path.write_text("# Benchmarks\n\n## Verdict\n\nold\n\n## Monthly crediting\n\nkept\n")
    results = _results()
    results["verdict"] = verdict(results)
    write_report(results, path)
    write_report(results, path)  # twice: the kept part neither doubles nor goes
    text = path.read_text()
    assert text.count(KEPT_MARKER) == 1
    assert text.count("## Monthly crediting") == 1
    assert text.rstrip().endswith("## Monthly crediting\n\nkept")


_WALDUMP = """\
rmgr: Heap        len (rec/tot):     54/   154, tx:        901, lsn: 1/A0000028, prev 1/A0000000, desc: INSERT off 3 flags 0x00, blkref #0: rel 1663/16390/16400 blk 7 FPW
rmgr: Btree       len (rec/tot):     64/    64, tx:        901, lsn: 1/A0000098, prev 1/A0000028, desc: INSERT_LEAF off 2, blkref #0: rel 1663/16390/16401 blk 1
rmgr: Heap        len (rec/tot):     54/    54, tx:        902, lsn: 1/A00000D8, prev 1/A0000098, desc: INSERT off 4 flags 0x00, blkref #0: rel 1663/99999/16400 blk 7
rmgr: Transaction len (rec/tot):     34/    34, tx:        902, lsn: 1/A0000110, prev 1/A00000D8, desc: COMMIT 2026-12-08 02:00:00 UTC
rmgr: Transaction len (rec/tot):     34/    34, tx:        901, lsn: 1/A0000138, prev 1/A0000110, desc: COMMIT 2026-12-08 02:00:00 UTC
rmgr: Standby     len (rec/tot):     50/    50, tx:          0, lsn: 1/A0000160, prev 1/A0000138, desc: RUNNING_XACTS nextXid 903
rmgr: Heap        len (rec/tot):     59/  8251, tx:          0, lsn: 1/A0000198, prev 1/A0000160, desc: LOCK off 1, blkref #0: rel 1663/16390/16400 fork fsm blk 0 FPW, blkref #1: rel 1663/16390/16402 blk 3 FPW
"""


def test_wal_of_one_database_is_its_blocks_and_its_transactions_commits() -> None:
    found = count_database(_WALDUMP.splitlines(), 16390)
    # 901's two records and its commit, and the xid-less record on its blocks; not 902's
    # (another database), not the running-xacts snapshot.
    assert found.records == 4
    assert found.bytes == 154 + 64 + 34 + 8251
    assert found.fpi == 3
    assert found.by_rmgr == {"Heap": 2, "Btree": 1, "Transaction": 1}
    assert count_database(_WALDUMP.splitlines(), 1).records == 0
