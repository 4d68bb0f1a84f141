"""`yibao-bench load`: a bench world of N persons, written with PostgreSQL COPY.

Steps: a fresh database migrated to the current schema; regions, employers, institutions and a
catalogue through the features' own use cases; the bulk tables' keys and indexes taken off;
worker processes (one per core) generating chunks of persons with numpy and streaming them in
binary COPY; keys, indexes and foreign keys put back; sequences moved past the ids; VACUUM
of the ledger (its visibility map) and ANALYZE.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import queue
import time
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from yibao.cli.context import err_console
from yibao.cli.demo import DISTRICTS, REGIONS
from yibao.db.migrate import upgrade
from yibao.kernel.clock import CHINA_TZ
from yibao.kernel.pii import PersonalDataCipher
from yibao_bench import copybin as cb
from yibao_bench import history, schema, shape
from yibao_bench.reference import (
    CATALOGUE,
    institution_codes,
    make_reference_data,
)
from yibao_bench.target import Target, bench_settings, schema_fingerprint


async def _world(
    target: Target, persons: int, seed: int, months: int, item_months: int, settlement_months: int
) -> shape.World:
    conn = await asyncpg.connect(target.dsn)
    try:
        employers = {
            r["admdvs"]: (r["first"], r["count"])
            for r in await conn.fetch(
                "SELECT admdvs, min(id) AS first, count(*) AS count FROM employers GROUP BY admdvs"
            )
        }
    finally:
        await conn.close()
    institutions = institution_codes(seed)
    today = datetime.now(CHINA_TZ).date()
    index = today.year * 12 + today.month - 1 - months
    regions = []
    for region in REGIONS:
        mine = [i for i, inst in enumerate(institutions) if inst[2] == region.admdvs]
        first, count = employers[region.admdvs]
        regions.append(
            shape.RegionShape(
                admdvs=region.admdvs,
                districts=tuple(DISTRICTS[region.admdvs]),
                credit_rate_bp=region.account_credit_rate_bp,
                retiree_credit_fen=region.retiree_monthly_credit_fen,
                deductible_fen=region.deductible_fen,
                fund_ratio_bp=region.fund_ratio_bp,
                retiree_fund_ratio_bp=region.retiree_fund_ratio_bp,
                class_b_selfpay_bp=region.class_b_selfpay_bp,
                first_employer_id=first,
                employers=count,
                hospitals=tuple(i for i in mine if institutions[i][0][0] == "H"),
                pharmacies=tuple(i for i in mine if institutions[i][0][0] == "P"),
            )
        )
    return shape.World(
        seed=seed,
        persons=persons,
        first_month=date(index // 12, index % 12 + 1, 1),
        months=months,
        item_months=min(item_months, settlement_months),
        settlement_months=settlement_months,
        loaded_at=datetime.now(UTC),
        regions=tuple(regions),
        institutions=tuple(
            shape.InstitutionShape(code, name, code[0]) for code, name, _, _ in institutions
        ),
        items=tuple(
            shape.ItemShape(code, name, level, price, bp)
            for code, name, level, price, bp in CATALOGUE
        ),
    )


def _chunks(persons: int, size: int) -> list[tuple[int, int]]:
    return [(s, min(s + size, persons)) for s in range(0, persons, size)]


async def _copy_chunk(conn: asyncpg.Connection, chunk: shape.Chunk) -> None:
    async with conn.transaction():
        for table, parts in chunk.data.items():

            async def stream(parts: list[bytes] = parts) -> Any:
                yield cb.HEADER
                for part in parts:
                    yield part
                yield cb.TRAILER

            await conn.copy_to_table(
                table, source=stream(), columns=shape.COLUMNS[table], format="binary"
            )


def _worker(dsn: str, world: shape.World, key: bytes, tasks: Any, results: Any) -> None:
    cipher = PersonalDataCipher(key)

    async def main() -> None:
        conn = await asyncpg.connect(dsn)
        await conn.execute("SET synchronous_commit = off")
        try:
            while True:
                try:
                    task = tasks.get_nowait()
                except queue.Empty:
                    return
                start, stop = task
                began = time.perf_counter()
                chunk = history.generate(world, cipher, start, stop)
                made = time.perf_counter()
                await _copy_chunk(conn, chunk)
                results.put(
                    ("done", stop - start, chunk.rows, made - began, time.perf_counter() - made)
                )
        finally:
            await conn.close()

    try:
        asyncio.run(main())
    except Exception as exc:  # a worker's failure is reported by the parent, then it stops
        results.put(("failed", repr(exc), {}, 0.0, 0.0))


def _generate_and_copy(
    target: Target, world: shape.World, jobs: int, chunk_size: int
) -> dict[str, Any]:
    key = bench_settings(target).data_key_bytes()
    ctx = multiprocessing.get_context("spawn")
    tasks = ctx.Queue()
    results = ctx.Queue()
    chunks = _chunks(world.persons, chunk_size)
    for task in chunks:
        tasks.put(task)
    workers = [
        ctx.Process(target=_worker, args=(target.dsn, world, key, tasks, results), daemon=True)
        for _ in range(jobs)
    ]
    for w in workers:
        w.start()
    rows: dict[str, int] = {}
    gen_seconds = copy_seconds = 0.0
    remaining = len(chunks)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} 人"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
    ) as progress:
        bar = progress.add_task("写入参保人与三年明细", total=world.persons)
        while remaining:
            try:
                kind, count, made, gen, copied = results.get(timeout=5)
            except queue.Empty:
                if not any(w.is_alive() for w in workers):
                    raise RuntimeError("bench load workers stopped before finishing") from None
                continue
            if kind == "failed":
                for w in workers:
                    w.terminate()
                raise RuntimeError(f"bench load worker failed: {count}")
            remaining -= 1
            for table, n in made.items():
                rows[table] = rows.get(table, 0) + n
            gen_seconds += gen
            copy_seconds += copied
            progress.advance(bar, count)
    for w in workers:
        w.join(timeout=30)
    return {"rows": rows, "generate_seconds": gen_seconds, "copy_seconds": copy_seconds}


async def _restore(
    target: Target, stripped: schema.Stripped, jobs: int, validate: bool
) -> tuple[dict[str, float], list[tuple[str, float]]]:
    conn = await asyncpg.connect(target.dsn)
    try:
        sizes = {
            r["relname"]: r["size"]
            for r in await conn.fetch(
                "SELECT relname, pg_relation_size(oid) AS size FROM pg_class"
                " WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
            )
        }
    finally:
        await conn.close()
    timings: dict[str, float] = {}
    slowest: list[tuple[str, float]] = []

    def done(statement: str, seconds: float) -> None:
        slowest.append((statement[:140], round(seconds, 1)))

    for name, statements in schema.restore_statements(stripped, validate=validate):
        began = time.perf_counter()
        await schema.run_parallel(target.dsn, statements, jobs, sizes, done)
        timings[name] = round(timings.get(name, 0.0) + time.perf_counter() - began, 1)
    conn = await asyncpg.connect(target.dsn)
    try:
        await schema.move_sequences(conn)
    finally:
        await conn.close()
    began = time.perf_counter()
    # The ledger is vacuumed too: index-only scans need its visibility map, which a live ledger
    # gets from autovacuum (PostgreSQL 13+ vacuums insert-only tables) and a bulk load does not.
    await schema.run_parallel(
        target.dsn,
        [
            (t, f'VACUUM (ANALYZE) "{t}"' if t == "ledger_entries" else f'ANALYZE "{t}"')
            for t in sizes
        ],
        jobs,
        sizes,
    )
    timings["analyze"] = round(time.perf_counter() - began, 1)
    slowest.sort(key=lambda item: -item[1])
    return timings, slowest[:12]


async def _sizes(target: Target) -> dict[str, int]:
    conn = await asyncpg.connect(target.dsn)
    try:
        return {
            r["relname"]: r["size"]
            for r in await conn.fetch(
                "SELECT relname, pg_total_relation_size(oid) AS size FROM pg_class"
                " WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
                " ORDER BY 2 DESC LIMIT 12"
            )
        }
    finally:
        await conn.close()


def load_world(
    target: Target,
    persons: int,
    *,
    seed: int = 20261125,
    months: int = 36,
    item_months: int = 3,
    settlement_months: int | None = None,
    jobs: int | None = None,
    chunk_size: int = 2_000,
    validate: bool = True,
) -> dict[str, Any]:
    """Build the bench world; returns what was made and how long each step took."""
    jobs = jobs or os.cpu_count() or 2
    timings: dict[str, float] = {}
    began = time.perf_counter()
    asyncio.run(target.recreate())
    upgrade(target.url)
    asyncio.run(make_reference_data(target, seed))
    timings["schema_and_reference"] = round(time.perf_counter() - began, 1)
    kept = months if settlement_months is None else min(settlement_months, months)
    world = asyncio.run(_world(target, persons, seed, months, item_months, kept))

    async def _strip() -> schema.Stripped:
        conn = await asyncpg.connect(target.dsn)
        try:
            return await schema.strip(conn)
        finally:
            await conn.close()

    stripped = asyncio.run(_strip())
    step = time.perf_counter()
    written = _generate_and_copy(target, world, jobs, min(chunk_size, max(persons // jobs, 1)))
    timings["generate_and_copy"] = round(time.perf_counter() - step, 1)
    step = time.perf_counter()
    restored, slowest = asyncio.run(_restore(target, stripped, jobs, validate))
    timings.update(restored)
    timings["restore_total"] = round(time.perf_counter() - step, 1)
    timings["total"] = round(time.perf_counter() - began, 1)
    facts = {
        "complete": True,
        "schema": schema_fingerprint(),
        "persons": persons,
        "seed": seed,
        "months": months,
        "item_months": world.item_months,
        "settlement_months": world.settlement_months,
        "first_month": world.first_month.isoformat(),
        "loaded_at": world.loaded_at.isoformat(),
        "jobs": jobs,
        "rows": written["rows"],
        "timings": timings,
        "worker_seconds": {
            "generate": round(written["generate_seconds"], 1),
            "copy": round(written["copy_seconds"], 1),
        },
        "sizes": asyncio.run(_sizes(target)),
        "slowest_restore_steps": slowest,
        "world": {"regions": [asdict(r)["admdvs"] for r in world.regions]},
    }
    asyncio.run(target.record(facts))
    return facts
