"""The benchmark's pure parts: the binary COPY encoder, the ID numbers it generates, the profile
summary and the report. (The load and the run themselves are in tests/integration/test_bench.py.)"""

from __future__ import annotations

import struct
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest

from yibao.kernel.idnumber import parse_id_number
from yibao_bench import copybin as cb
from yibao_bench import history, shape
from yibao_bench.report import render
from yibao_bench.server import summarise_profile
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


def test_percentile_and_report() -> None:
    values = list(range(1, 101))
    assert _percentile(values, 50) == 50
    assert _percentile(values, 99) == 99
    assert _percentile([], 99) == 0.0
    results = {
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
            "persons": 1000,
            "rows": {"ledger_entries": 90},
            "timings": {"total": 1.0},
            "sizes": {},
        },
        "pgbench": {
            "tps": 2000.0,
            "p50_ms": 10.0,
            "p99_ms": 40.0,
            "transactions": 60000,
            "scale": 50,
        },
        "settlement": {
            "throughput": 500.0,
            "p50_ms": 20.0,
            "p99_ms": 45.0,
            "ok": 15000,
            "failed": 0,
        },
        "query": {"error": "relation missing"},
        "verdict": {
            "settlement_vs_pgbench": {"value": 0.25, "target": ">= 0.5", "met": False},
            "settlement_p99_ms": {"value": 45.0, "target": "<= 50", "met": True},
        },
    }
    text = render(results, notes="## Method\n\nnotes here")
    assert "**Headline: settlement TPS / pgbench TPS = 0.25**" in text
    assert "| settlement TPS / pgbench TPC-B TPS | 0.25 | >= 0.5 | **no** |" in text
    assert "| account query, 1,000 persons | failed: relation missing |" in text
    assert text.rstrip().endswith("notes here")
