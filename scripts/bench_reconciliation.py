"""Reconciliation (对账, 3201/3202) of a period with many settlements, on PostgreSQL.

    .venv/bin/python scripts/bench_reconciliation.py --settlements 100000 --others 400000
    scripts/bench reconciliation --settlements 100000                   # the same through scripts/bench

Makes a database of its own (`yibao_bench_reconciliation`, dropped and made again), migrated by
the project's migrations, and writes by COPY `--settlements` settlements of one pharmacy in one
30-day period plus `--others` of other institutions and other months (so the period is a part of
the table, as in production). The seeding skips foreign-key triggers (session_replication_role
replica: the settlements name a person row that is not written) and is not measured.

Then it measures, `--rounds` times each, the use cases the interface runs, on one session as a
message does (not over HTTP: the gateway, the envelope and the 9101 upload are not part of it):
- 3201: `reconcile_totals_in` (one aggregate query on ix_settlements_institution_time and the
  reconciliation's row), with the query's EXPLAIN ANALYZE printed once;
- 3202: reading the institution's detail file (a zip of every settlement, `--differences` of them
  changed or missing), `reconcile_details_in` (the period's lines, the comparison, the
  differences kept) and the result file's zip.
Each round rolls back, so every round sees the same database.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import os
import statistics
import sys
import time
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
DB = "yibao_bench_reconciliation"
ADMIN = os.environ.get(
    "YIBAO_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
PHARMACY = "P44030500631"
BEGIN = date(2026, 11, 1)
END = date(2026, 11, 30)
COLUMNS = (
    "setl_id", "mdtrt_id", "person_id", "psn_no", "fixmedins_code", "fixmedins_name",
    "fixmedins_type", "med_type", "insutype", "medfee_sumamt_fen", "fulamt_ownpay_amt_fen",
    "overlmt_selfpay_fen", "preselfpay_amt_fen", "inscp_scp_amt_fen", "act_pay_dedc_fen",
    "hifp_pay_fen", "fund_pay_sumamt_fen", "psn_part_amt_fen", "acct_pay_fen",
    "acct_mulaid_pay_fen", "psn_cash_pay_fen", "balc_fen", "setl_time", "status", "msgid",
)  # fmt: skip


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def db_url() -> str:
    return ADMIN.rsplit("/", 1)[0] + f"/{DB}"


async def admin(sql: str) -> None:
    conn = await asyncpg.connect(dsn(ADMIN))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def row(n: int, code: str, moment: datetime) -> tuple[object, ...]:
    medfee = 1_000 + (n * 7919) % 50_000
    fund = medfee * 9 // 10
    acct = medfee - fund
    return (
        f"S{n:020d}", f"M{n:020d}", 1, f"{440300000000 + n % 50_000:018d}", code, "药房",
        code[0], "41", "310", medfee, 0, 0, 0, medfee, 0, fund, fund, acct, acct, 0, 0, 0,
        moment, "settled", f"{code}{moment:%Y%m%d%H%M%S}{n % 10_000:04d}",
    )  # fmt: skip


async def seed(settlements: int, others: int) -> None:
    conn = await asyncpg.connect(dsn(db_url()))
    try:
        await conn.execute("SET session_replication_role = replica")
        start = datetime(2026, 10, 31, 16, tzinfo=UTC)  # 2026-11-01 00:00 Beijing
        span = (END - BEGIN).days + 1
        rows = [
            row(n, PHARMACY, start + timedelta(seconds=(n * 86_400 * span) // settlements))
            for n in range(settlements)
        ]
        for n in range(settlements, settlements + others):
            code = f"P440305{n % 500:05d}" if n % 2 else PHARMACY
            shift = timedelta(days=40 + n % 300)  # months before the period
            rows.append(row(n, code, start - shift if code == PHARMACY else start + timedelta(
                seconds=n % (86_400 * span))))  # fmt: skip
        await conn.copy_records_to_table("settlements", records=rows, columns=COLUMNS)
        await conn.execute("ANALYZE settlements")
    finally:
        await conn.close()


def detail_file(settlements: int, differences: int) -> tuple[bytes, int, int, int]:
    lines = []
    count = medfee_sum = fund_sum = 0
    step = max(1, settlements // max(1, differences))
    for n in range(settlements):
        r = row(n, PHARMACY, datetime.now(UTC))
        medfee, fund, acct = int(r[9]), int(r[16]), int(r[18])  # type: ignore[call-overload]
        if differences and n % step == 0 and n // step < differences:
            if n // step % 2:
                continue  # one the institution never booked
            medfee += 1  # one it booked with another total
        lines.append(
            f"{r[0]}\t{r[1]}\t{r[3]}\t{medfee / 100:.2f}\t{fund / 100:.2f}\t{acct / 100:.2f}\t0\n"
        )
        count, medfee_sum, fund_sum = count + 1, medfee_sum + medfee, fund_sum + fund
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("detail.txt", "".join(lines).encode())
    return buffer.getvalue(), count, medfee_sum, fund_sum


async def measure(settlements: int, rounds: int, differences: int) -> None:
    from sqlalchemy import text

    from yibao.config import Settings
    from yibao.runtime import build_runtime
    from yibao.settlement.domain import Caller
    from yibao.settlement.reconciliation import Totals, read_detail_file, result_file, result_line
    from yibao.settlement.service import reconciling

    settings = Settings(
        environment="production",
        database_url=db_url(),
        data_key=base64.b64encode(b"b" * 32).decode(),
        secret_key="bench-reconciliation-" + "s" * 20,
        _env_file=None,  # type: ignore[call-arg]
    )
    runtime = build_runtime(settings)
    caller = Caller(1, PHARMACY, "药房", "P", "440300", None, None)
    asked = reconciling.Asked(
        "P440305006312026120109000001", "001", "收费员", "440300", BEGIN, END, "310", "41",
        "input.data",
    )  # fmt: skip
    try:
        async with runtime.sessions() as session:
            plan = await session.execute(
                text(
                    "EXPLAIN ANALYZE SELECT count(*), sum(medfee_sumamt_fen),"
                    " sum(fund_pay_sumamt_fen), sum(acct_pay_fen) FROM settlements"
                    " WHERE fixmedins_code = :code AND setl_time >= :start AND setl_time < :stop"
                    " AND status = 'settled' AND insutype = '310' AND med_type IN ('41')"
                ),
                {
                    "code": PHARMACY,
                    "start": datetime(2026, 10, 31, 16, tzinfo=UTC),
                    "stop": datetime(2026, 11, 30, 16, tzinfo=UTC),
                },
            )
            print("3201's aggregate query:")
            for (line,) in plan:
                print("   ", line)
        totals_times = []
        for _ in range(rounds):
            async with runtime.sessions() as session:
                began = time.perf_counter()
                answer = await reconciling.reconcile_totals_in(
                    session, runtime.clock, caller, asked, Totals(settlements, 0, 0, 0)
                )
                totals_times.append(time.perf_counter() - began)
                await session.rollback()
        assert answer.ours.count == settlements, answer.ours
        content, count, medfee, fund = detail_file(settlements, differences)
        detail_times, detail_cpu = [], []
        for _ in range(rounds):
            async with runtime.sessions() as session:
                began, cpu = time.perf_counter(), time.process_time()
                theirs = read_detail_file(content)
                found = await reconciling.reconcile_details_in(
                    session, runtime.clock, caller, asked, theirs,
                    sent=Totals(count, medfee, fund, 0),
                )  # fmt: skip
                lines = [result_line(d, None) for d in found.result.differences]
                result_file("result.txt", lines)
                detail_times.append(time.perf_counter() - began)
                detail_cpu.append(time.process_time() - cpu)
                await session.rollback()
        print(
            f"3201 totals over {settlements:,} settlements: median "
            f"{statistics.median(totals_times) * 1000:.1f} ms, max {max(totals_times) * 1000:.1f} ms"
            f" ({rounds} rounds)"
        )
        print(
            f"3202 details of {count:,} lines ({len(found.result.differences)} differences, "
            f"file {len(content):,} bytes): median {statistics.median(detail_times):.2f} s, "
            f"max {max(detail_times):.2f} s ({rounds} rounds); this process's CPU: median "
            f"{statistics.median(detail_cpu):.2f} s"
        )
    finally:
        await runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--settlements", type=int, default=100_000)
    parser.add_argument("--others", type=int, default=400_000)
    parser.add_argument("--differences", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="measure the database seeded before")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from yibao.db.migrate import upgrade

    if not args.keep:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)'))
        asyncio.run(admin(f'CREATE DATABASE "{DB}"'))
        upgrade(db_url())
        began = time.perf_counter()
        asyncio.run(seed(args.settlements, args.others))
        seeded = args.settlements + args.others
        print(f"seeded {seeded:,} settlements in {time.perf_counter() - began:.1f} s")
    print(f"load average before measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    asyncio.run(measure(args.settlements, args.rounds, args.differences))


if __name__ == "__main__":
    main()
