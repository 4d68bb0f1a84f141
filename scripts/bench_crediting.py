"""Crediting a province's month (划账) on PostgreSQL: employees from the file, retirees from
enrolment, with `yibao crediting run` as an operator runs it.

    .venv/bin/python scripts/bench_crediting.py --employees 1000000 --retirees 300000
    scripts/bench crediting --employees 50000 --retirees 15000        # the same through scripts/bench

Each run makes a database of its own (`--db`, `yibao_bench_crediting` by default, dropped and made
again: helpers sharing a PostgreSQL give each their own name), migrated
by the project's migrations, with the regions of the demo, 2,000 employers and the persons,
enrolments and accounts written by COPY (the seeding is not measured). It writes the month's CSV,
then runs `yibao crediting run` in a subprocess and reports the wall time, lines per second and
the worker's peak resident memory (VmHWM, read from /proc before it exits; polled VmRSS too).
`--again` runs the month a second time (nothing new to credit) and reports that too.
`--probe` measures, beside the run, the p99 of a keyed read and write of one account (the
statements a settlement makes on the account: lock, read, update), against the same probe with no
run in the background.
`--settlement` measures real settlements beside the run: the bench's reference data (regions,
catalogue, hospitals with their tokens, employers: `yibao_bench.reference`) goes in first, the
production server (`yibao_bench.server`, one worker) answers 2207 through the institution
interface, and wrk (`yibao_bench.loadgen`, `--settle-connections` connections, closed loop) sends
signed 2207 messages prepared just before each window (`yibao_bench.pools`: a visit and its fee
lines for a random person of the province). Windows of `--window` seconds: first with no run
(the p99 without), then one after another until the run ends (the p99 during the run).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
DB = "yibao_bench_crediting"
ADMIN = os.environ.get(
    "YIBAO_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
SEED = 20261125  # the bench's reference seed: the hospitals' tokens follow from it
MONTH = "2026-11"
EMPLOYERS = 2_000
DISTRICTS = ["310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112",
             "440303", "440304", "440305", "440306", "440307", "440308", "440309", "440310"]  # fmt: skip
REGION_OF = {"31": "310000", "44": "440300"}


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


def id_number(n: int, retired: bool) -> str:
    from yibao.kernel.idnumber import check_character

    district = DISTRICTS[n % len(DISTRICTS)]
    rest = n // len(DISTRICTS)
    first = date(1940, 1, 1) if retired else date(1966, 1, 1)
    birth = first + timedelta(days=rest % 9000)
    sequence = rest // 9000
    first17 = f"{district}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def base_fen(n: int) -> int:
    return 400_000 + (n * 7919) % 2_600_000  # 4,000.00 … 30,000.00 yuan


def keys() -> tuple[str, str]:
    from yibao_bench.target import bench_keys

    return bench_keys()


async def seed(employees: int, retirees: int, csv_path: Path, *, reference: bool) -> None:
    from yibao.cli.demo import REGIONS
    from yibao.kernel.money import format_yuan
    from yibao.kernel.pii import PersonalDataCipher

    cipher = PersonalDataCipher(base64.b64decode(keys()[0]))
    # Settlements read the ID number back (the 2207 names the person by it): each is sealed then.
    placeholder = cipher.encrypt("000000000000000000", purpose="id_number")
    now = datetime.now(UTC)
    if reference:
        from yibao_bench.reference import make_reference_data
        from yibao_bench.target import Target

        await make_reference_data(Target(ADMIN, DB), SEED)
    conn = await asyncpg.connect(dsn(db_url()))
    try:
        employer_ids = [r["id"] for r in await conn.fetch("SELECT id FROM employers ORDER BY id")]
    finally:
        await conn.close()
    if not reference:
        await _regions_and_employers(REGIONS)
        employer_ids = list(range(1, EMPLOYERS + 1))
    conn = await asyncpg.connect(dsn(db_url()))
    try:
        # The seed is made consistent by construction: no foreign-key triggers while it goes in.
        await conn.execute("SET session_replication_role = replica")
        total = employees + retirees
        chunk = 100_000
        with csv_path.open("w", encoding="utf-8") as out:
            out.write("id_number,month,base,employer_amount,personal_amount\n")
            for start in range(0, total, chunk):
                persons, enrolments, accounts = [], [], []
                for n in range(start, min(start + chunk, total)):
                    retired = n >= employees
                    number = id_number(n, retired)
                    region = REGION_OF.get(number[:2], "310000")
                    person_id = n + 1
                    sealed = (
                        cipher.encrypt(number, purpose="id_number") if reference else placeholder
                    )
                    persons.append(
                        (person_id, f"B{person_id:011d}", f"压测{n}", sealed,
                         cipher.lookup_hash(number, purpose="id_number"),
                         number[:3] + "*" * 11 + number[-4:], "1", date(1960, 1, 1), now)
                    )  # fmt: skip
                    enrolments.append(
                        (person_id, person_id, "310", "1201" if retired else "1101", "1", region,
                         None if retired else employer_ids[n % len(employer_ids)],
                         date(2020, 1, 1))
                    )  # fmt: skip
                    accounts.append((person_id, person_id, 0, "active", now, now))
                    if not retired:
                        base = base_fen(n)
                        out.write(
                            f"{number},{MONTH},{format_yuan(base)},"
                            f"{format_yuan(base * 8 // 100)},{format_yuan(base * 2 // 100)}\n"
                        )
                await conn.copy_records_to_table(
                    "persons",
                    records=persons,
                    columns=[
                        "id",
                        "psn_no",
                        "name",
                        "id_number_enc",
                        "id_number_hash",
                        "id_number_masked",
                        "gender",
                        "birth_date",
                        "created_at",
                    ],
                )
                await conn.copy_records_to_table(
                    "enrolments",
                    records=enrolments,
                    columns=[
                        "id",
                        "person_id",
                        "insutype",
                        "psn_type",
                        "status",
                        "admdvs",
                        "employer_id",
                        "begin_date",
                    ],
                )
                await conn.copy_records_to_table(
                    "personal_accounts",
                    records=accounts,
                    columns=[
                        "id",
                        "person_id",
                        "balance_fen",
                        "status",
                        "opened_at",
                        "updated_at",
                    ],
                )
        for table in ("persons", "enrolments", "personal_accounts", "employers"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608 - fixed names
                f" (SELECT MAX(id) FROM {table}))"
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def _regions_and_employers(regions: Any) -> None:
    conn = await asyncpg.connect(dsn(db_url()))
    try:
        await conn.execute("SET session_replication_role = replica")
        await conn.copy_records_to_table(
            "regions",
            records=[
                (
                    r.admdvs,
                    r.name,
                    r.account_credit_rate_bp,
                    r.retiree_monthly_credit_fen,
                    r.deductible_fen,
                    r.fund_ratio_bp,
                    r.retiree_fund_ratio_bp,
                    r.yearly_cap_fen,
                    r.class_b_selfpay_bp,
                    r.near_relatives_allowed,
                    r.mutual_aid_scope,
                    r.resident_contribution_fen,
                )
                for r in regions
            ],
            columns=[
                "admdvs",
                "name",
                "account_credit_rate_bp",
                "retiree_monthly_credit_fen",
                "deductible_fen",
                "fund_ratio_bp",
                "retiree_fund_ratio_bp",
                "yearly_cap_fen",
                "class_b_selfpay_bp",
                "near_relatives_allowed",
                "mutual_aid_scope",
                "resident_contribution_fen",
            ],
        )
        admdvs = [r.admdvs for r in regions]
        await conn.copy_records_to_table(
            "employers",
            records=[(e + 1, f"压测单位{e}", admdvs[e % len(admdvs)]) for e in range(EMPLOYERS)],
            columns=["id", "name", "admdvs"],
        )
    finally:
        await conn.close()


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("YIBAO_")}
    out.update(
        YIBAO_DATABASE_URL=db_url(),
        YIBAO_DATA_KEY=keys()[0],
        YIBAO_SECRET_KEY=keys()[1],
        YIBAO_ENVIRONMENT="production",
        YIBAO_LOG_LEVEL="warning",
        YIBAO_VAR_DIR=str(ROOT / "var"),
    )
    return out


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _backend_cpu(pids: dict[int, float]) -> None:
    """CPU seconds (user + system) of each PostgreSQL backend connected to the bench's database
    now, by pid (the last value read stays when a backend has gone)."""
    try:
        found = subprocess.run(  # noqa: S603 - psql on our own query
            ["psql", dsn(ADMIN), "-Atc",  # noqa: S607
             f"SELECT pid FROM pg_stat_activity WHERE datname = '{DB}'"],  # noqa: S608
            capture_output=True, text=True, check=False,
        ).stdout.split()  # fmt: skip
    except OSError:
        return
    for pid in (int(p) for p in found):
        seconds = _cpu_s(pid)
        if seconds is not None:
            pids[pid] = seconds


def _cpu_s(pid: int) -> float | None:
    """user + system CPU seconds of a process, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_month(csv_path: Path, batch: int) -> dict[str, Any]:
    argv = [sys.executable, "-c", "from yibao.cli.main import main; main()", "crediting", "run",
            "--month", MONTH, "--file", str(csv_path), "--batch", str(batch), "--json"]  # fmt: skip
    started = time.monotonic()
    process = subprocess.Popen(  # noqa: S603 - our interpreter, our arguments
        argv, env=env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    peak_kb = 0
    backends: dict[int, float] = {}
    polled = 0.0
    worker_cpu = 0.0
    while process.poll() is None:
        worker_cpu = _cpu_s(process.pid) or worker_cpu
        peak_kb = max(peak_kb, _status_kb(process.pid, "VmHWM"), _status_kb(process.pid, "VmRSS"))
        if time.monotonic() - polled >= 1.0:
            _backend_cpu(backends)
            polled = time.monotonic()
        time.sleep(0.2)
    seconds = time.monotonic() - started
    out, err = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"yibao crediting run failed:\n{err.decode()[-3000:]}")
    summary: dict[str, Any] = json.loads(out)
    summary["seconds"] = round(seconds, 1)
    summary["lines_per_second"] = round(int(summary["lines"]) / seconds)
    summary["peak_rss_mb"] = round(peak_kb / 1024, 1)
    # Both read from /proc while the run goes (the worker every 0.2 s, its backends every
    # second): the last fraction of a second of each is not counted.
    summary["worker_cpu_s"] = round(worker_cpu, 1)
    summary["backend_cpu_s"] = round(sum(backends.values()), 1)
    return summary


async def probe(
    seconds: float, accounts: int, stop: asyncio.Event | None = None
) -> dict[str, float]:
    """A settlement's statements on one account, one after another: lock, read, write, commit
    (until `seconds` have passed, or `stop` is set)."""
    conn = await asyncpg.connect(dsn(db_url()))
    times: list[float] = []
    deadline = time.monotonic() + seconds
    n = 0
    try:
        while time.monotonic() < deadline and not (stop and stop.is_set()):
            account = 1 + (n * 104_729) % accounts
            n += 1
            t = time.perf_counter()
            async with conn.transaction():
                await conn.fetchrow(
                    "SELECT id, balance_fen, status FROM personal_accounts WHERE id = $1 FOR UPDATE",
                    account,
                )
                await conn.execute(
                    "UPDATE personal_accounts SET updated_at = now() WHERE id = $1", account
                )
            times.append((time.perf_counter() - t) * 1000)
    finally:
        await conn.close()
    times.sort()
    return {
        "count": len(times),
        "p50_ms": round(statistics.median(times), 2),
        "p99_ms": round(times[max(int(len(times) * 0.99) - 1, 0)], 2),
        "max_ms": round(times[-1], 2),
    }


def settlement_windows(
    base_url: str, persons: int, *, window: int, connections: int, until: Any, limit: int
) -> list[dict[str, Any]]:
    """wrk windows of signed 2207s (each pool made just before its window: the gateway allows
    300 s of clock drift), until `until()` is false or `limit` windows have run."""
    from yibao.kernel.pii import PersonalDataCipher
    from yibao_bench import loadgen, pools

    cipher = PersonalDataCipher(base64.b64decode(keys()[0]))
    hospitals = pools.sign_in_hospitals(base_url, SEED)
    work = ROOT / "var" / "bench-crediting" / "settle"
    out: list[dict[str, Any]] = []
    n = 0
    while n < limit and until():
        n += 1
        pool_dir = work / f"w{n}"
        made = asyncio.run(
            pools.settlement_pool(
                dsn(db_url()), cipher, hospitals, persons=persons, count=window * 400,
                out_dir=pool_dir, threads=1, seed=SEED + n + int(time.time()),
            )
        )  # fmt: skip
        started = time.monotonic()
        process = loadgen.start_wrk(
            base_url, loadgen.SETTLE_LUA, pool_dir, connections=connections, threads=1,
            seconds=window,
        )  # fmt: skip
        result = loadgen.finish_wrk(process).as_dict()
        result["pool"] = made
        result["started_s"] = round(started - T0, 1)
        out.append(result)
    return out


def settlement_summary(windows: list[dict[str, Any]]) -> dict[str, Any]:
    if not windows:
        return {}
    keep = ("requests", "throughput", "p50_ms", "p99_ms", "max_ms", "ok", "failed", "wrapped")
    return {
        "windows": [{k: w.get(k) for k in (*keep, "started_s")} for w in windows],
        "settlements": sum(int(w["requests"]) for w in windows),
        "failed": sum(int(w["failed"]) for w in windows),
        "p99_ms_median_window": statistics.median(float(w["p99_ms"]) for w in windows),
        "p99_ms_worst_window": max(float(w["p99_ms"]) for w in windows),
        "p50_ms_median_window": statistics.median(float(w["p50_ms"]) for w in windows),
    }


def measure_settlement(args: argparse.Namespace, csv_path: Path, total: int) -> dict[str, Any]:
    """Settlement p99 with no run (`--idle-windows` windows), then during the run."""
    import threading

    from yibao_bench import server
    from yibao_bench.target import Target, server_environment

    report: dict[str, Any] = {}
    environment = server_environment(Target(ADMIN, DB), pool_size=4)
    with server.running_server(environment, workers=1) as srv:
        settlement_windows(
            srv.url,
            total,
            window=5,
            connections=args.settle_connections,
            until=lambda: True,
            limit=1,
        )  # fmt: skip  (a warm-up window: the worker's first requests, caches)
        idle = settlement_windows(
            srv.url, total, window=args.window, connections=args.settle_connections,
            until=lambda: True, limit=args.idle_windows,
        )  # fmt: skip
        report["settlement_without_run"] = settlement_summary(idle)
        result: dict[str, Any] = {}

        def crediting_run() -> None:
            result.update(run_month(csv_path, args.batch))

        thread = threading.Thread(target=crediting_run)
        started = time.monotonic()
        thread.start()
        during = settlement_windows(
            srv.url, total, window=args.window, connections=args.settle_connections,
            until=thread.is_alive, limit=10_000,
        )  # fmt: skip
        thread.join()
        result["started_s"] = round(started - T0, 1)
        report["first_run"] = result
        report["settlement_during_run"] = settlement_summary(during)
    return report


T0 = time.monotonic()


def main() -> None:
    global DB  # the module's functions name the bench's database through it
    parser = argparse.ArgumentParser()
    parser.add_argument("--employees", type=int, default=1_000_000)
    parser.add_argument("--retirees", type=int, default=300_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--again", action="store_true", help="run the month a second time")
    parser.add_argument("--probe", action="store_true", help="account p99 with and without a run")
    parser.add_argument("--log-slow-ms", type=int, default=0)
    parser.add_argument(
        "--settlement", action="store_true", help="2207 p99 over HTTP with and without a run"
    )
    parser.add_argument("--settle-connections", type=int, default=2)
    parser.add_argument("--window", type=int, default=20, help="seconds per settlement window")
    parser.add_argument("--idle-windows", type=int, default=3)
    parser.add_argument("--db", default=DB, help="the bench's database (dropped and made again)")
    args = parser.parse_args()
    DB = args.db
    sys.path.insert(0, str(ROOT / "src"))
    from yibao.db.migrate import upgrade

    csv_path = ROOT / "var" / "bench-crediting" / f"{MONTH}.csv"
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)'))
    asyncio.run(admin(f'CREATE DATABASE "{DB}"'))
    if args.log_slow_ms:
        # Statements slower than this go to PostgreSQL's log (where a run spends its time).
        asyncio.run(
            admin(f'ALTER DATABASE "{DB}" SET log_min_duration_statement = {args.log_slow_ms}')
        )
    upgrade(db_url())
    t = time.monotonic()
    asyncio.run(seed(args.employees, args.retirees, csv_path, reference=args.settlement))
    report: dict[str, Any] = {
        "employees": args.employees,
        "retirees": args.retirees,
        "seed_seconds": round(time.monotonic() - t, 1),
        "load_average": os.getloadavg(),
    }
    total = args.employees + args.retirees
    if args.settlement:
        report |= measure_settlement(args, csv_path, total)
    elif args.probe:
        report["probe_idle"] = asyncio.run(probe(10, total))

        async def beside() -> dict[str, Any]:
            stop = asyncio.Event()
            task = asyncio.create_task(probe(3600, total, stop))
            result = await asyncio.to_thread(run_month, csv_path, args.batch)
            stop.set()
            result["probe_during_run"] = await task
            return result

        report["first_run"] = asyncio.run(beside())
    else:
        report["first_run"] = run_month(csv_path, args.batch)
    if args.again:
        report["second_run"] = run_month(csv_path, args.batch)
    report["load_average_after"] = os.getloadavg()
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
