"""Settlement throughput over HTTP: outpatient 2207 (or pharmacy 2102), 3-item bills, wrk.

    export YIBAO_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1/yibao_perf YIBAO_DATA_KEY=...
    .venv/bin/yibao migrate && .venv/bin/python scripts/bench_settlement.py --seed   # once
    .venv/bin/uvicorn yibao.web.app:create_app --factory --workers 2 --port 8800 \
        --no-access-log --loop uvloop --http httptools &                          # the server
    .venv/bin/python scripts/bench_settlement.py --url http://127.0.0.1:8800 --seconds 20

Each run signs in every bench institution (9001), writes one open visit with three fee lines per
2207 beforehand (as 2201/2204 would), pre-signs one message per request (wrk's Lua has no
SHA-256; the gateway's 300 s window is why they are made right before the run) and then drives
the server with wrk at 32 connections. `--pgbench` runs pgbench TPC-B (-c 32 -j 2) first, as the
yardstick of the same moment.
"""

# ruff: noqa: S603, S607 - runs the local tools (pgbench, wrk) with arguments it builds itself
from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import secrets
import subprocess
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

STATE = Path("var/bench-settlement.json")
BEIJING = timezone(timedelta(hours=8))
ITEMS = [  # 甲, 乙 (10% pre-self-pay), 丙
    ("XA01ABD075A002010100483", "阿莫西林胶囊", "drug", "01", "", "1500"),
    ("XC09AAL135A001010101956", "贝那普利片", "drug", "02", "10", "1200"),
    ("XN06BXJ045A001010100001", "银杏叶提取物片", "drug", "03", "", "800"),
]


async def seed(persons: int) -> dict[str, Any]:
    import random

    from yibao.cli.demo import REGIONS, make_id_number
    from yibao.enrolment import service as enrolment
    from yibao.kernel.clock import SystemClock
    from yibao.ledger import repository as ledger
    from yibao.ledger.domain import EntryKind
    from yibao.runtime import build_runtime
    from yibao.settlement import service

    runtime = build_runtime()
    rng = random.Random(1)  # noqa: S311 - made-up test persons
    people = []
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
        rows, seen = [], set()
        while len(rows) < persons:
            n = len(rows)
            id_number = make_id_number(
                rng, "440305", date(1960 + n % 40, 1 + n % 12, 1 + n % 28), n % 2 == 0
            )
            if id_number in seen:
                continue
            seen.add(id_number)
            rows.append(
                (
                    n + 1,
                    enrolment.NewPerson(
                        f"压测{n}", id_number, None, "440300", "310", "1101", "压测单位"
                    ),
                )
            )
        done, errors = await enrolment.enrol_many(session, runtime.cipher, runtime.clock, rows)
        assert not errors, errors[:3]
        for (_, new), enrolled in zip(rows, done, strict=True):
            account = await ledger.account_for_person(session, enrolled.person.id, lock=True)
            assert account is not None
            await ledger.post(
                session,
                account,
                ledger.Posting(
                    EntryKind.CONTRIBUTION_CREDIT,
                    100_000_000,
                    f"bench:{enrolled.person.id}",
                    "压测划入",
                ),
                SystemClock().now(),
            )
            people.append(
                {
                    "psn_no": enrolled.person.psn_no,
                    "person_id": enrolled.person.id,
                    "id_number": new.id_number,
                }
            )
        await session.commit()
        institutions = []
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


def headers(code: str, token: str) -> dict[str, str]:
    ts, nonce = str(int(time.time())), secrets.token_hex(12)
    return {
        "x-tif-paasid": code.lower(),
        "x-tif-timestamp": ts,
        "x-tif-nonce": nonce,
        "x-tif-signature": hashlib.sha256(f"{ts}{token}{nonce}{ts}".encode()).hexdigest(),
    }


def msgid(code: str, n: int) -> str:
    return f"{code}{datetime.now(BEIJING):%Y%m%d%H%M%S}{n % 10000:04d}"


async def sign_in(url: str, institutions: list[dict[str, Any]]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        for inst in institutions:
            env = {
                "infno": "9001",
                "msgid": msgid(inst["code"], 9999),  # above every message of a pool
                "fixmedins_code": inst["code"],
                "input": {},
            }
            answer = (
                await http.post(
                    "/fsi/api/9001", json=env, headers=headers(inst["code"], inst["token"])
                )
            ).json()
            inst["sign_no"] = answer["output"]["signinoutb"]["sign_no"]


def bill_lines(n: int) -> list[dict[str, str]]:
    return [
        {
            "feedetl_sn": str(i + 1),
            "med_list_codg": code,
            "pric": f"{int(price) / 100:.2f}",
            "cnt": "2",
            "det_item_fee_sumamt": f"{int(price) * 2 / 100:.2f}",
        }
        for i, (code, *_, price) in enumerate(ITEMS)
    ]


async def open_visits(
    people: list[dict[str, Any]], hospitals: list[dict[str, Any]], n: int
) -> list[str]:
    """n open visits with three fee lines each, written as 2201/2204 write them."""
    from sqlalchemy import insert, select

    import yibao.enrolment.tables  # noqa: F401 - visits point at persons
    from yibao.kernel.clock import SystemClock
    from yibao.runtime import build_runtime
    from yibao.settlement.tables import FeeDetail, Visit

    runtime = build_runtime()
    now = SystemClock().now()
    stamp = f"{datetime.now(BEIJING):%Y%m%d%H%M%S}"
    run = secrets.token_hex(2)
    ids = [f"B{stamp}{run}{i:011d}"[:30] for i in range(n)]
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
                    "msgid": f"bench-{run}-{i}",
                }
                for i in range(n)
            ],
        )
        visit_ids = dict(
            (
                await session.execute(
                    select(Visit.mdtrt_id, Visit.id).where(Visit.mdtrt_id.in_(ids))
                )
            ).all()
        )
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
                for line in bill_lines(0)
            ],
        )
        await session.commit()
    await runtime.close()
    return ids


def message(
    infno: str,
    inst: dict[str, Any],
    person: dict[str, Any],
    n: int,
    mdtrt_id: str | None,
    sequence: int = 0,
) -> str:
    """`sequence`: the message's number at its institution (its msgid's last 4 digits)."""
    lines = bill_lines(n)
    total = f"{sum(int(x['det_item_fee_sumamt'].replace('.', '')) for x in lines) / 100:.2f}"
    common = {
        "psn_no": person["psn_no"],
        "mdtrt_cert_type": "02",
        "mdtrt_cert_no": person["id_number"],
        "medfee_sumamt": total,
        "insutype": "310",
        "acct_used_flag": "1",
    }
    if infno == "2207":
        payload: dict[str, Any] = {"data": {**common, "med_type": "11", "mdtrt_id": mdtrt_id}}
    else:
        payload = {"druginfo": common, "drugdetail": lines}
    env = {
        "infno": infno,
        "msgid": msgid(inst["code"], sequence),
        "fixmedins_code": inst["code"],
        "sign_no": inst["sign_no"],
        "input": payload,
    }
    h = headers(inst["code"], inst["token"])
    body = json.dumps(env, ensure_ascii=False, separators=(",", ":"))
    return "\t".join(
        [h["x-tif-paasid"], h["x-tif-timestamp"], h["x-tif-nonce"], h["x-tif-signature"], body]
    )


LUA = r"""
local threads, count = {}, 0
function setup(thread)
  count = count + 1
  thread:set("id", count)
  table.insert(threads, thread)
end
function init(args)
  pool = {}
  for line in io.lines(args[1] .. "/pool-" .. id .. ".txt") do pool[#pool + 1] = line end
  at, ok, failed = 0, 0, 0
end
function request()
  at = at + 1
  if at > #pool then at = 1 end
  local paasid, ts, nonce, sig, body = pool[at]:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
  return wrk.format("POST", "/fsi/api/rsfComIfsService/callService", {
    ["Content-Type"] = "application/json", ["x-tif-paasid"] = paasid,
    ["x-tif-timestamp"] = ts, ["x-tif-nonce"] = nonce, ["x-tif-signature"] = sig}, body)
end
function response(status, headers, body)
  if status == 200 and body:find('"infcode":0[,}]') then ok = ok + 1 else
    failed = failed + 1
    if failed <= 3 then io.stderr:write(body:sub(1, 300) .. "\n") end
  end
end
function done(summary, latency, requests)
  local ok_, failed_ = 0, 0
  for _, t in ipairs(threads) do ok_ = ok_ + t:get("ok"); failed_ = failed_ + t:get("failed") end
  io.write(string.format('BENCH {"requests":%d,"seconds":%.2f,"p50_ms":%.1f,"p90_ms":%.1f,'
    .. '"p99_ms":%.1f,"ok":%d,"failed":%d}\n', summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, ok_, failed_))
end
"""


def pgbench(seconds: int) -> float:
    subprocess.run(
        ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "pgbench_perf"], check=True
    )
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", "pgbench_perf"], check=True)
    subprocess.run(
        ["pgbench", "-h", "127.0.0.1", "-U", "postgres", "-i", "-s", "10", "-q", "pgbench_perf"],
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        [
            "pgbench",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-c",
            "32",
            "-j",
            "2",
            "-T",
            str(seconds),
            "pgbench_perf",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found = re.search(r"tps = ([\d.]+)", out)
    assert found, out
    return float(found.group(1))


_TICK = os.sysconf("SC_CLK_TCK")


def server_cpu(pid: int | None) -> tuple[float, float]:
    """CPU seconds (user, system) of the server process `pid` and all its descendants."""
    if pid is None:
        return (0.0, 0.0)
    parents: dict[int, int] = {}
    times: dict[int, tuple[float, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) / _TICK, int(fields[12]) / _TICK)
    tree, grown = {pid}, True
    while grown:
        more = {child for child, parent in parents.items() if parent in tree} - tree
        grown = bool(more)
        tree |= more
    found = [times[p] for p in tree if p in times]
    return (sum(u for u, _ in found), sum(s for _, s in found))


def run(
    url: str,
    infno: str,
    seconds: int,
    rate_guess: int,
    state: dict[str, Any],
    server_pid: int | None = None,
) -> dict[str, Any]:
    people = state["people"]
    kind = "H" if infno == "2207" else "P"
    insts = [i for i in state["institutions"] if i["code"].startswith(kind)]
    asyncio.run(sign_in(url, insts))
    total = min(rate_guess * (seconds + 2), 9998 * 8)
    mdtrt_ids: list[str | None] = [None] * total
    if infno == "2207":
        mdtrt_ids = list(asyncio.run(open_visits(people, insts, total)))
    threads = 2
    with tempfile.TemporaryDirectory() as pool_dir:
        pools: list[list[str]] = [[] for _ in range(threads)]
        rng_people = secrets.SystemRandom()
        for n in range(total):
            # open_visits gave visit n to person n % len(people) at hospital n % len(hospitals)
            person = people[n % len(people)] if infno == "2207" else rng_people.choice(people)
            inst = insts[n % len(insts)]
            sequence = n // len(insts)  # msgids stay unique while a pool is made within a second
            pools[n % threads].append(message(infno, inst, person, n, mdtrt_ids[n], sequence))
        for t, lines in enumerate(pools, 1):
            Path(pool_dir, f"pool-{t}.txt").write_text("\n".join(lines) + "\n")
        script = Path(pool_dir, "settle.lua")
        script.write_text(LUA)
        cpu_before = server_cpu(server_pid)
        out = subprocess.run(
            [
                "wrk",
                "-t",
                str(threads),
                "-c",
                "32",
                "-d",
                f"{seconds}s",
                "--latency",
                "-s",
                str(script),
                url,
                "--",
                pool_dir,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
    cpu_after = server_cpu(server_pid)
    found = re.search(r"^BENCH (\{.*\})$", out.stdout, re.MULTILINE)
    assert found, out.stdout + out.stderr
    result: dict[str, Any] = json.loads(found.group(1))
    result["tps"] = round(result["ok"] / result["seconds"], 1)
    if server_pid is not None and result["requests"]:
        # the server's processes (its workers) over the wrk pass only: ms of CPU per request
        user, system = (
            (after - before) * 1000 / result["requests"]
            for before, after in zip(cpu_before, cpu_after, strict=True)
        )
        result["worker_cpu_ms"] = round(user + system, 3)
        result["worker_cpu_ms_user_system"] = [round(user, 3), round(system, 3)]
    if out.stderr.strip():
        result["stderr"] = out.stderr.strip()[:600]
    if result["requests"] > total:
        result["warning"] = "pool wrapped: raise --rate-guess"
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", action="store_true")
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--url", default="http://127.0.0.1:8800")
    parser.add_argument("--infno", choices=["2207", "2102"], default="2207")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rate-guess", type=int, default=1500, help="requests/s to pre-sign for")
    parser.add_argument("--pgbench", action="store_true")
    parser.add_argument(
        "--server-pid",
        type=int,
        help="the server's pid: report its (and its workers') CPU ms per request over the pass",
    )
    args = parser.parse_args()
    if args.seed:
        STATE.parent.mkdir(exist_ok=True)
        STATE.write_text(json.dumps(asyncio.run(seed(args.persons))))
        return
    report: dict[str, Any] = {}
    if args.pgbench:
        report["pgbench_tps"] = pgbench(args.seconds)
    report[args.infno] = run(
        args.url,
        args.infno,
        args.seconds,
        args.rate_guess,
        json.loads(STATE.read_text()),
        args.server_pid,
    )
    if "pgbench_tps" in report:
        report["ratio"] = round(report[args.infno]["tps"] / report["pgbench_tps"], 3)
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
