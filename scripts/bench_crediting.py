"""Crediting a province's month (划账) on PostgreSQL: employees from the file, retirees from
enrolment, with `yibao crediting run` as an operator runs it.

    .venv/bin/python scripts/bench_crediting.py --employees 1000000 --retirees 300000
    scripts/bench crediting --employees 50000 --retirees 15000        # the same through scripts/bench

Each run makes a database of its own (`yibao_bench_crediting`, dropped and made again), migrated
by the project's migrations, with the regions of the demo, 2,000 employers and the persons,
enrolments and accounts written by COPY (the seeding is not measured). It writes the month's CSV,
then runs `yibao crediting run` in a subprocess and reports the wall time, lines per second and
the worker's peak resident memory (VmHWM, read from /proc before it exits; polled VmRSS too).
`--again` runs the month a second time (nothing new to credit) and reports that too.
`--probe` measures, beside the run, the p99 of a keyed read and write of one account (the
statements a settlement makes on the account: lock, read, update), against the same probe with no
run in the background.
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
DATA_KEY = base64.b64encode(b"b" * 32).decode()
SECRET_KEY = "bench-crediting-" + "s" * 20
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


async def seed(employees: int, retirees: int, csv_path: Path) -> None:
    from yibao.cli.demo import REGIONS
    from yibao.kernel.money import format_yuan
    from yibao.kernel.pii import PersonalDataCipher

    cipher = PersonalDataCipher(base64.b64decode(DATA_KEY))
    sealed = cipher.encrypt("000000000000000000", purpose="id_number")  # never read by the run
    now = datetime.now(UTC)
    conn = await asyncpg.connect(dsn(db_url()))
    try:
        # The seed is made consistent by construction: no foreign-key triggers while it goes in.
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
                for r in REGIONS
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
        admdvs = [r.admdvs for r in REGIONS]
        await conn.copy_records_to_table(
            "employers",
            records=[(e + 1, f"压测单位{e}", admdvs[e % len(admdvs)]) for e in range(EMPLOYERS)],
            columns=["id", "name", "admdvs"],
        )
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
                    persons.append(
                        (person_id, f"B{person_id:011d}", f"压测{n}", sealed,
                         cipher.lookup_hash(number, purpose="id_number"),
                         number[:3] + "*" * 11 + number[-4:], "1", date(1960, 1, 1), now)
                    )  # fmt: skip
                    enrolments.append(
                        (person_id, person_id, "310", "1201" if retired else "1101", "1", region,
                         None if retired else 1 + n % EMPLOYERS, date(2020, 1, 1))
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


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("YIBAO_")}
    out.update(
        YIBAO_DATABASE_URL=db_url(),
        YIBAO_DATA_KEY=DATA_KEY,
        YIBAO_SECRET_KEY=SECRET_KEY,
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


def run_month(csv_path: Path, batch: int) -> dict[str, Any]:
    argv = [sys.executable, "-c", "from yibao.cli.main import main; main()", "crediting", "run",
            "--month", MONTH, "--file", str(csv_path), "--batch", str(batch), "--json"]  # fmt: skip
    started = time.monotonic()
    process = subprocess.Popen(  # noqa: S603 - our interpreter, our arguments
        argv, env=env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    peak_kb = 0
    while process.poll() is None:
        peak_kb = max(peak_kb, _status_kb(process.pid, "VmHWM"), _status_kb(process.pid, "VmRSS"))
        time.sleep(0.2)
    seconds = time.monotonic() - started
    out, err = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"yibao crediting run failed:\n{err.decode()[-3000:]}")
    summary: dict[str, Any] = json.loads(out)
    summary["seconds"] = round(seconds, 1)
    summary["lines_per_second"] = round(int(summary["lines"]) / seconds)
    summary["peak_rss_mb"] = round(peak_kb / 1024, 1)
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--employees", type=int, default=1_000_000)
    parser.add_argument("--retirees", type=int, default=300_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--again", action="store_true", help="run the month a second time")
    parser.add_argument("--probe", action="store_true", help="account p99 with and without a run")
    parser.add_argument("--log-slow-ms", type=int, default=0)
    args = parser.parse_args()
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
    asyncio.run(seed(args.employees, args.retirees, csv_path))
    report: dict[str, Any] = {
        "employees": args.employees,
        "retirees": args.retirees,
        "seed_seconds": round(time.monotonic() - t, 1),
        "load_average": os.getloadavg(),
    }
    total = args.employees + args.retirees
    if args.probe:
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
