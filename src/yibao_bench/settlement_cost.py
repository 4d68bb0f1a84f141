"""What one settlement costs PostgreSQL: WAL bytes, records, full-page images and backend CPU.

In process and sequential (httpx's ASGI transport, no server, no wrk), so that the figures are
PostgreSQL's per settlement and nothing else's. Meant for a PostgreSQL cluster of its own: the
WAL counters (`pg_stat_wal`) are the cluster's, so any other database's writes would count too.

    pg_createcluster 15 walcut --port 5447 -- --auth-local=trust --auth-host=trust
    echo "shared_preload_libraries = 'pg_stat_statements'" >> /etc/postgresql/15/walcut/postgresql.conf
    pg_ctlcluster 15 walcut start && createdb -h 127.0.0.1 -p 5447 -U postgres walcut_perf
    psql -h 127.0.0.1 -p 5447 -U postgres walcut_perf -c 'CREATE EXTENSION pg_stat_statements'
    export YIBAO_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5447/walcut_perf
    export YIBAO_DATA_KEY=...  YIBAO_ENVIRONMENT=production
    .venv/bin/yibao migrate
    .venv/bin/python -m yibao_bench.settlement_cost --seed
    .venv/bin/python -m yibao_bench.settlement_cost --infno 2207 --count 1000

Each pass: the institutions sign in (9001), the bills' visits are written beforehand (2207: one
open visit with three fee lines each, as 2201/2204 write them), 30 warm-up settlements, then
`CHECKPOINT` (so each pass starts where a checkpoint just happened: the full-page images are the
most a settlement pays, the same in every pass) and `--count` settlements, each answered
`infcode: 0`. Printed: per settlement, the `pg_stat_wal` deltas, the CPU time of the database's
backends (`/proc/<pid>/stat`, same machine), and, when `pg_stat_statements` is loaded, each
statement's share of the WAL.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import secrets
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx

STATE = Path("var/settlement-cost.json")
BEIJING = timezone(timedelta(hours=8))
ITEMS = [  # 甲, 乙 (10% pre-self-pay), 丙: code, name, kind, level, self-pay share, price fen
    ("XA01ABD075A002010100483", "阿莫西林胶囊", "drug", "01", "", 1500),
    ("XC09AAL135A001010101956", "贝那普利片", "drug", "02", "10", 1200),
    ("XN06BXJ045A001010100001", "银杏叶提取物片", "drug", "03", "", 800),
]
CALL = "/fsi/api/rsfComIfsService/callService"


def _dsn() -> str:
    return os.environ["YIBAO_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")


async def seed(persons: int) -> dict[str, Any]:
    from yibao.cli.demo import REGIONS, make_id_number
    from yibao.enrolment import service as enrolment
    from yibao.ledger import repository as ledger
    from yibao.ledger.domain import EntryKind
    from yibao.runtime import build_runtime
    from yibao.settlement import service

    runtime = build_runtime()
    rng = random.Random(1)  # noqa: S311 - made-up persons
    people: list[dict[str, Any]] = []
    institutions: list[dict[str, Any]] = []
    async with runtime.sessions() as session:
        for region in REGIONS:
            await enrolment.define_region(session, region)
        await service.import_catalogue(
            session,
            [
                (n, service.CatalogueRow(code, name, kind, lv, share))
                for n, (code, name, kind, lv, share, _) in enumerate(ITEMS, 1)
            ],
        )
        rows: list[tuple[int, enrolment.NewPerson]] = []
        seen: set[str] = set()
        while len(rows) < persons:
            n = len(rows)
            born = date(1960 + n % 40, 1 + n % 12, 1 + n % 28)
            id_number = make_id_number(rng, "440305", born, n % 2 == 0)
            if id_number in seen:
                continue
            seen.add(id_number)
            person = enrolment.NewPerson(
                f"压测{n}", id_number, None, "440300", "310", "1101", "压测单位"
            )
            rows.append((n + 1, person))
        done, errors = await enrolment.enrol_many(session, runtime.cipher, runtime.clock, rows)
        assert not errors, errors[:3]
        for (_, new), enrolled in zip(rows, done, strict=True):
            account = await ledger.account_for_person(session, enrolled.person.id, lock=True)
            assert account is not None
            posting = ledger.Posting(
                EntryKind.CONTRIBUTION_CREDIT,
                100_000_000,
                f"bench:{enrolled.person.id}",
                "压测划入",
            )
            await ledger.post(session, account, posting, runtime.clock.now())
            people.append(
                {
                    "psn_no": enrolled.person.psn_no,
                    "person_id": enrolled.person.id,
                    "id_number": new.id_number,
                }
            )
        await session.commit()
        for kind in "HP":
            for n in range(8):
                code = f"{kind}4403059{n:04d}"
                made = await service.add_institution(
                    session,
                    runtime.cipher,
                    runtime.clock,
                    service.NewInstitution(code, f"压测机构{kind}{n}", "440300"),
                )
                institutions.append({"code": code, "token": made.token})
    await runtime.close()
    return {"people": people, "institutions": institutions}


def _headers(code: str, token: str) -> dict[str, str]:
    ts, nonce = str(int(time.time())), secrets.token_hex(12)
    return {
        "x-tif-paasid": code.lower(),
        "x-tif-timestamp": ts,
        "x-tif-nonce": nonce,
        "x-tif-signature": hashlib.sha256(f"{ts}{token}{nonce}{ts}".encode()).hexdigest(),
    }


def _lines() -> list[dict[str, str]]:
    return [
        {
            "feedetl_sn": str(i + 1),
            "med_list_codg": code,
            "pric": f"{price / 100:.2f}",
            "cnt": "2",
            "det_item_fee_sumamt": f"{price * 2 / 100:.2f}",
        }
        for i, (code, *_, price) in enumerate(ITEMS)
    ]


async def _open_visits(
    people: list[dict[str, Any]], hospitals: list[dict[str, Any]], n: int
) -> list[str]:
    from sqlalchemy import insert, select

    import yibao.enrolment.tables  # noqa: F401 - visits point at persons
    from yibao.runtime import build_runtime
    from yibao.settlement.tables import FeeDetail, Visit

    runtime = build_runtime()
    now = runtime.clock.now()
    run = secrets.token_hex(3)
    ids = [f"C{run}{i:011d}" for i in range(n)]
    async with runtime.sessions() as session:
        await session.execute(
            insert(Visit),
            [
                {
                    "mdtrt_id": ids[i],
                    "person_id": people[i % len(people)]["person_id"],
                    "fixmedins_code": hospitals[i % len(hospitals)]["code"],
                    "med_type": "11",
                    "insutype": "310",
                    "status": "open",
                    "begin_at": now,
                    "msgid": f"cost-{run}-{i}",
                }
                for i in range(n)
            ],
        )
        found = await session.execute(
            select(Visit.mdtrt_id, Visit.id).where(Visit.mdtrt_id.in_(ids))
        )
        visit_ids = {mdtrt_id: visit_id for mdtrt_id, visit_id in found}
        await session.execute(
            insert(FeeDetail),
            [
                {
                    "visit_id": visit_ids[mdtrt_id],
                    "feedetl_sn": line["feedetl_sn"],
                    "med_list_codg": line["med_list_codg"],
                    "pric_fen": int(line["pric"].replace(".", "")),
                    "cnt": line["cnt"],
                    "det_item_fee_sumamt_fen": int(line["det_item_fee_sumamt"].replace(".", "")),
                }
                for mdtrt_id in ids
                for line in _lines()
            ],
        )
        await session.commit()
    await runtime.close()
    return ids


class Messages:
    def __init__(self, infno: str, state: dict[str, Any]) -> None:
        kind = "H" if infno == "2207" else "P"
        self.infno = infno
        self.people = state["people"]
        self.institutions = [i for i in state["institutions"] if i["code"].startswith(kind)]
        self.sent = 0
        self.stamp = f"{datetime.now(BEIJING):%Y%m%d%H%M%S}"

    async def sign_in(self, http: httpx.AsyncClient) -> None:
        for inst in self.institutions:
            env = {
                "infno": "9001",
                "msgid": f"{inst['code']}{datetime.now(BEIJING):%Y%m%d%H%M%S}9999",
                "fixmedins_code": inst["code"],
                "input": {},
            }
            answer = (
                await http.post(CALL, json=env, headers=_headers(inst["code"], inst["token"]))
            ).json()
            assert answer["infcode"] == 0, answer
            inst["sign_no"] = answer["output"]["signinoutb"]["sign_no"]

    def make(self, n: int, mdtrt_id: str | None) -> tuple[dict[str, str], bytes]:
        inst = self.institutions[n % len(self.institutions)]
        person = self.people[n % len(self.people)]
        lines = _lines()
        total = sum(int(x["det_item_fee_sumamt"].replace(".", "")) for x in lines)
        common = {
            "psn_no": person["psn_no"],
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": person["id_number"],
            "medfee_sumamt": f"{total / 100:.2f}",
            "insutype": "310",
            "acct_used_flag": "1",
        }
        if self.infno == "2207":
            payload: dict[str, Any] = {"data": {**common, "med_type": "11", "mdtrt_id": mdtrt_id}}
        else:
            payload = {"druginfo": common, "drugdetail": lines}
        env = {
            "infno": self.infno,
            # code, time, number: the national msgid; unique while a pass is made within a second
            "msgid": f"{inst['code']}{self.stamp}{n // len(self.institutions) % 10000:04d}",
            "fixmedins_code": inst["code"],
            "sign_no": inst["sign_no"],
            "input": payload,
        }
        body = json.dumps(env, ensure_ascii=False, separators=(",", ":")).encode()
        return _headers(inst["code"], inst["token"]), body


def _backend_cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


async def _wal(conn: asyncpg.Connection) -> tuple[int, int, int]:
    row = await conn.fetchrow("SELECT wal_bytes, wal_records, wal_fpi FROM pg_stat_wal")
    return int(row["wal_bytes"]), int(row["wal_records"]), int(row["wal_fpi"])


async def measure(infno: str, count: int, state: dict[str, Any]) -> dict[str, Any]:
    from yibao.runtime import build_runtime
    from yibao.web.app import create_app

    warm = 30
    messages = Messages(infno, state)
    mdtrt_ids: list[str | None] = [None] * (warm + count)
    runtime = build_runtime()
    app = create_app(runtime=runtime)
    admin = await asyncpg.connect(_dsn())
    statements = bool(
        await admin.fetchval(
            "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'"
        )
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench"
    ) as http:
        await messages.sign_in(http)
        if infno == "2207":
            mdtrt_ids = list(
                await _open_visits(messages.people, messages.institutions, warm + count)
            )
        made = [messages.make(n, mdtrt_ids[n]) for n in range(warm + count)]

        async def send(n: int) -> None:
            headers, body = made[n]
            answer = (
                await http.post(
                    CALL, content=body, headers={**headers, "content-type": "application/json"}
                )
            ).json()
            assert answer["infcode"] == 0, answer

        for n in range(warm):
            await send(n)
        await admin.execute("CHECKPOINT")
        if statements:
            await admin.execute("SELECT pg_stat_statements_reset()")
        mine = await admin.fetchval("SELECT pg_backend_pid()")
        pids = [
            r["pid"]
            for r in await admin.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> $1",
                mine,
            )
        ]
        lsn_from = await admin.fetchval("SELECT pg_current_wal_insert_lsn()::text")
        before, cpu_before, started = await _wal(admin), _backend_cpu_seconds(pids), time.time()
        for n in range(warm, warm + count):
            await send(n)
        after, cpu_after, ended = await _wal(admin), _backend_cpu_seconds(pids), time.time()
        lsn_to = await admin.fetchval("SELECT pg_current_wal_insert_lsn()::text")
        top: list[dict[str, Any]] = []
        if statements:
            for r in await admin.fetch(
                "SELECT calls, wal_bytes, wal_records, wal_fpi, total_exec_time,"
                " left(regexp_replace(query, '\\s+', ' ', 'g'), 90) AS q"
                " FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database"
                " WHERE datname = current_database()) ORDER BY wal_bytes DESC LIMIT 12"
            ):
                top.append(
                    {
                        "statement": r["q"],
                        "calls": r["calls"],
                        "wal_bytes_per_settlement": round(int(r["wal_bytes"]) / count),
                        "wal_records_per_settlement": round(r["wal_records"] / count, 2),
                        "fpi_per_settlement": round(r["wal_fpi"] / count, 2),
                        "exec_ms_per_call": round(r["total_exec_time"] / max(r["calls"], 1), 3),
                    }
                )
    await admin.close()
    await runtime.close()
    return {
        "infno": infno,
        "settlements": count,
        "seconds": round(ended - started, 1),
        "wal_kb": round((after[0] - before[0]) / count / 1000, 2),
        "wal_records": round((after[1] - before[1]) / count, 2),
        "wal_fpi": round((after[2] - before[2]) / count, 2),
        "postgres_cpu_ms": round((cpu_after - cpu_before) / count * 1000, 3),
        "backends": len(pids),
        "lsn": [lsn_from, lsn_to],  # pg_waldump -s … -e … shows each record
        "statements": top,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", action="store_true")
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--infno", choices=["2207", "2102"], default="2207")
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    if args.seed:
        STATE.parent.mkdir(exist_ok=True)
        STATE.write_text(json.dumps(asyncio.run(seed(args.persons))))
        return
    result = asyncio.run(measure(args.infno, args.count, json.loads(STATE.read_text())))
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
