"""The benchmark's own smoke test: a small world loaded with COPY, checked for consistency, then a
one-second run of every workload through the real server. No timing is asserted: the numbers
belong in docs/benchmarks.md, not in the suite."""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from alembic import command

from yibao.db.migrate import alembic_config, upgrade
from yibao.kernel.idnumber import is_valid_id_number
from yibao.kernel.pii import PersonalDataCipher
from yibao_bench.load import load_world
from yibao_bench.report import render
from yibao_bench.run import RunOptions, run_bench
from yibao_bench.target import Target
from yibao_bench.worlds import bring_up_to_date, settle_after_upgrade, storage_options

pytestmark = pytest.mark.postgres

PG_ADMIN_URL = os.environ.get(
    "YIBAO_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PERSONS = 200
DATA_KEY = base64.b64encode(b"b" * 32).decode()


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[Target, dict[str, Any]]]:
    suffix = f"{os.getpid()}_{secrets.token_hex(3)}"
    target = Target(PG_ADMIN_URL, f"yibao_bench_smoke_{suffix}")
    try:
        asyncio.run(_admin("SELECT 1"))
    except (OSError, asyncpg.PostgresError) as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL unreachable at {PG_ADMIN_URL} under CI=true: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc}")
    keys = {"YIBAO_DATA_KEY": DATA_KEY, "YIBAO_SECRET_KEY": "bench-smoke-secret-" + "s" * 16}
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update(keys)
    try:
        facts = load_world(target, PERSONS, months=14, item_months=2, jobs=2, chunk_size=60)
        yield target, facts
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        # The one-second run initialises pgbench's tables in a database of its own.
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{target.database}_pgbench" WITH (FORCE)'))


async def _fetch(target: Target, sql: str) -> list[Any]:
    conn = await asyncpg.connect(target.dsn)
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


def test_load_makes_a_consistent_world(world: tuple[Target, dict[str, Any]]) -> None:
    target, facts = world
    assert facts["complete"] is True
    rows = facts["rows"]
    # 14 months: 14 credits and 21 settlements per person, i.e. 30 entries a year.
    assert rows["persons"] == rows["personal_accounts"] == PERSONS
    assert rows["ledger_entries"] == PERSONS * 35
    assert rows["contributions"] == PERSONS * 14
    assert rows["settlements"] == PERSONS * 21
    assert rows["settlement_items"] == PERSONS * 3 * 3
    counts = asyncio.run(
        _fetch(
            target,
            """
            SELECT
              (SELECT count(*) FROM personal_accounts a WHERE a.balance_fen <>
                 (SELECT sum(amount_fen) FROM ledger_entries e WHERE e.account_id = a.id)) AS balances,
              (SELECT count(*) FROM (SELECT balance_after_fen, sum(amount_fen) OVER
                 (PARTITION BY account_id ORDER BY created_at, id) AS running
                 FROM ledger_entries) x WHERE balance_after_fen <> running) AS chain,
              (SELECT count(*) FROM settlements s JOIN ledger_entries e
                 ON e.idempotency_key = 'setl:' || s.setl_id || ':own'
                 WHERE e.amount_fen = -s.acct_pay_fen AND e.balance_after_fen = s.balc_fen
                   AND e.source_id = s.setl_id) AS matched,
              (SELECT count(*) FROM contributions c JOIN ledger_entries e ON e.id = c.ledger_entry_id
                 WHERE e.amount_fen = c.credited_fen
                   AND e.idempotency_key = 'contribution:' || c.person_id || ':' || c.month) AS credited,
              (SELECT count(*) FROM settlements s WHERE s.medfee_sumamt_fen <>
                 (SELECT sum(det_item_fee_sumamt_fen) FROM settlement_items i
                  WHERE i.settlement_id = s.id)) AS items,
              (SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND NOT convalidated) AS unchecked
            """,
        )
    )[0]
    assert counts["balances"] == 0
    assert counts["chain"] == 0
    assert counts["matched"] == rows["settlements"]
    assert counts["credited"] == rows["contributions"]
    assert counts["items"] == 0
    # Foreign keys are back and validated; indexes and constraints are exactly the migrations'.
    assert counts["unchecked"] == 0
    fresh = Target(PG_ADMIN_URL, f"{target.database}_fresh")
    asyncio.run(fresh.recreate())
    try:
        upgrade(fresh.url)
        assert asyncio.run(_schema(target)) == asyncio.run(_schema(fresh))
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{fresh.database}" WITH (FORCE)'))


async def _schema(target: Target) -> list[tuple[str, str]]:
    rows = await _fetch(
        target,
        "SELECT tablename AS t, indexdef AS d FROM pg_indexes WHERE schemaname = 'public'"
        " UNION ALL SELECT conrelid::regclass::text, conname || ' ' || pg_get_constraintdef(oid)"
        " FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2",
    )
    return [(r["t"], r["d"]) for r in rows]


def test_persons_are_encrypted_and_found_by_keyed_hash(
    world: tuple[Target, dict[str, Any]],
) -> None:
    target, _ = world
    cipher = PersonalDataCipher(base64.b64decode(DATA_KEY))
    found = asyncio.run(
        _fetch(target, "SELECT id_number_enc, id_number_hash, id_number_masked FROM persons")
    )
    numbers = [cipher.decrypt(r["id_number_enc"], purpose="id_number") for r in found]
    assert len(set(numbers)) == PERSONS
    assert all(is_valid_id_number(n) for n in numbers)
    for row, number in zip(found, numbers, strict=True):
        assert row["id_number_hash"] == cipher.lookup_hash(number, purpose="id_number")
        assert row["id_number_masked"] == number[:3] + "*" * 11 + number[-4:]


def test_one_second_run_of_every_workload(
    world: tuple[Target, dict[str, Any]], tmp_path: Path
) -> None:
    if not shutil.which("wrk") or not shutil.which("pgbench"):
        # scripts/test installs both: under CI a missing one is a broken install, not a skip.
        missing = "wrk and pgbench come from Debian (scripts/test and scripts/bench install them)"
        if IN_CI:
            pytest.fail(missing)
        pytest.skip(missing)
    target, facts = world
    report = tmp_path / "benchmarks.md"
    results = run_bench(
        RunOptions(
            persons=PERSONS,
            growth_persons=None,
            seconds=1,
            warmup=0,
            connections=4,
            threads=1,
            workers=1,
            pgbench_scale=1,
            query_persons=20,
            profile_seconds=0,
            seed=7,
            report=report,
            database=target.database,
            pgbench_database=f"{target.database}_pgbench",
        )
    )
    try:
        assert results["pgbench"]["transactions"] > 0
        assert results["pgbench_after"]["transactions"] > 0  # the settlement pass is bracketed
        settlement, query = results["settlement"], results["query"]
        assert settlement["ok"] > 0
        assert settlement["failed"] == 0, settlement.get("sample_errors")
        assert query["ok"] > 0
        assert query["failed"] == 0, query.get("sample_errors")
        assert settlement["worker_rss_peak_mb"]
        assert all(0 < rss < 2_000 for rss in settlement["worker_rss_peak_mb"])
        assert settlement["cores_server"] > 0
        # 2102 (a pharmacy sale) is measured beside 2207, and every target of #16 is a row.
        pharmacy = results["settlement_2102"]
        assert pharmacy["ok"] > 0
        assert pharmacy["failed"] == 0, pharmacy.get("sample_errors")
        for key in ("settlement", "settlement_2102"):
            for row in ("vs_pgbench", "vs_floor", "p99_ms", "wal_kb", "pg_cpu_ms"):
                assert results["verdict"][f"{key}_{row}"]["value"] is not None, (key, row)
        assert results["verdict"]["query_vs_floor_read"]["value"] is not None
        # The WAL is read back per database, and PostgreSQL's CPU is its backends'.
        assert settlement["db_wal_records"] > 0, settlement.get("db_wal_error")
        assert settlement["db_wal_bytes"] > 0 and settlement["db_wal_fpi"] >= 0
        assert 0 < settlement["cores_postgres"] <= settlement["cores_postgres_all"]
        assert len(settlement["load_average"]) == 2
        # Each sampled person was touched once before the measured pass, and wrk stopped then.
        first = query["first_touch"]
        assert first["failed"] == 0
        assert first["ok"] >= 2 * query["tokens"]
        assert first["seconds"] < 60
        assert settlement["wal_bytes_written"] > 0
        # The stack's floor: pgbench's transaction and a keyed read, over HTTP, all answered.
        for kind in ("tpcb", "read"):
            floor = results["floor"][kind]
            assert floor["ok"] > 0, floor
            assert floor["failed"] == 0, floor.get("sample_errors")
        text = report.read_text()
        assert "| settlement 2207 TPS ÷ pgbench TPC-B TPS, 32 connections |" in text
        assert "| settlement 2102 TPS ÷ the floor's TPC-B-over-HTTP TPS |" in text
        assert "first touch of each sampled person" in text
        assert "| pgbench TPC-B right after" in text
        assert "| settlement 2207 | " in text.split("WAL written per request")[1]
        assert "PostgreSQL as configured: shared_buffers" in text
        assert "| floor: pgbench's TPC-B transaction over HTTP" in text
        assert "The stack's floor: pgbench's own TPC-B transaction" in text
        assert render(results).startswith("# Benchmarks")
        # Every 2207 answered 0 made a settlement on top of the loaded history, each that took
        # money from the account has its ledger entry (an emptied account pays nothing, and
        # writes none), and the accounts still hold exactly the sum of their entries.
        after = asyncio.run(
            _fetch(
                target,
                f"""
                SELECT
                  (SELECT count(*) FROM settlements s
                     WHERE s.setl_time > '{facts["loaded_at"]}') AS new_settlements,
                  (SELECT count(*) FROM settlements s
                     WHERE s.setl_time > '{facts["loaded_at"]}' AND s.acct_pay_fen > 0
                       AND NOT EXISTS (SELECT 1 FROM ledger_entries e
                         WHERE e.idempotency_key = 'setl:' || s.setl_id || ':own')) AS unpaid,
                  (SELECT count(*) FROM personal_accounts a WHERE a.balance_fen <>
                     (SELECT sum(amount_fen) FROM ledger_entries e
                      WHERE e.account_id = a.id)) AS balances
                """,
            )
        )[0]
        assert after["new_settlements"] >= settlement["ok"]
        assert after["unpaid"] == 0
        assert after["balances"] == 0
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{target.database}_pgbench" WITH (FORCE)'))


def test_a_world_behind_the_migrations_is_migrated_not_reloaded(
    world: tuple[Target, dict[str, Any]],
) -> None:
    """A world loaded under older migrations is brought up to date with `alembic upgrade` (a
    1,000,000-person load takes a quarter of an hour); one the code cannot migrate is not used."""
    target, facts = world
    # As if it had been loaded before the newest migration of one branch existed.
    command.downgrade(alembic_config(target.url), "0014_notice_preferences@-1")
    asyncio.run(target.record({**facts, "schema": "older"}))
    assert asyncio.run(target.describe()) is None
    found = bring_up_to_date(target)
    assert found.facts is not None, found.note
    assert found.note.startswith("migrated from")
    done = found.facts["upgrades"][-1]
    assert "0011" in done["from"] and "0014_notice_preferences" in done["to"]
    # Nothing was reloaded: the same persons, and the record now passes as current.
    persons = asyncio.run(_fetch(target, "SELECT count(*) AS n FROM persons"))[0]["n"]
    assert persons == PERSONS
    assert asyncio.run(target.describe()) == found.facts
    assert bring_up_to_date(target).note == "current"
    # A table whose storage options a migration changes is rewritten as a load lays it out.
    before = asyncio.run(storage_options(target))
    asyncio.run(_admin_on(target, "ALTER TABLE enrolments SET (fillfactor = 90)"))
    try:
        assert asyncio.run(settle_after_upgrade(target, before)) == (["enrolments"], [])
    finally:
        asyncio.run(_admin_on(target, "ALTER TABLE enrolments RESET (fillfactor)"))
    # A revision the code does not know (a world loaded by another branch) is not migrated.
    asyncio.run(target.record({**found.facts, "schema": "elsewhere"}))
    asyncio.run(
        _admin_on(
            target,
            "UPDATE alembic_version SET version_num = '0099_elsewhere'"
            " WHERE version_num = '0014_stock'",
        )
    )
    try:
        refused = bring_up_to_date(target)
        assert refused.facts is None
        assert "0099_elsewhere" in refused.note
    finally:
        asyncio.run(
            _admin_on(
                target,
                "UPDATE alembic_version SET version_num = '0014_stock'"
                " WHERE version_num = '0099_elsewhere'",
            )
        )
        asyncio.run(target.record(found.facts))


async def _admin_on(target: Target, sql: str) -> None:
    conn = await asyncpg.connect(target.dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
