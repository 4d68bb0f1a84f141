"""Settlement throughput over HTTP: pharmacy sales (2102) spread over many persons.

    YIBAO_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1/yibao_bench \
    YIBAO_DATA_KEY=... .venv/bin/python scripts/bench_settlement.py --seed   # once
    .venv/bin/yibao serve --port 8800 &                                       # the server
    .venv/bin/python scripts/bench_settlement.py --url http://127.0.0.1:8800 --requests 3000

Compare with `pgbench -c 8 -j 2 -T 15` on the same machine (the target: at least half its TPS).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import secrets
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import httpx

STATE = Path("var/bench-settlement.json")
BEIJING = timezone(timedelta(hours=8))


async def seed(persons: int) -> dict[str, list[dict[str, str]]]:
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
            [(1, service.CatalogueRow("XA01ABD075A002010100483", "阿莫西林胶囊", "drug", "01"))],
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
                    10_000_000,
                    f"bench:{enrolled.person.id}",
                    "压测划入",
                ),
                SystemClock().now(),
            )
            people.append({"psn_no": enrolled.person.psn_no, "id_number": new.id_number})
        await session.commit()
        pharmacies = []
        for n in range(8):
            code = f"P4403059{n:04d}"
            made = await service.add_institution(
                session,
                runtime.cipher,
                runtime.clock,
                service.NewInstitution(code, f"压测药房{n}", "440300"),
            )
            pharmacies.append({"code": code, "token": made.token})
    await runtime.close()
    return {"people": people, "pharmacies": pharmacies}


def headers(code: str, token: str) -> dict[str, str]:
    ts, nonce = str(int(time.time())), secrets.token_hex(12)
    return {
        "x-tif-paasid": code.lower(),
        "x-tif-timestamp": ts,
        "x-tif-nonce": nonce,
        "x-tif-signature": hashlib.sha256(f"{ts}{token}{nonce}{ts}".encode()).hexdigest(),
    }


async def run(
    url: str, total: int, concurrency: int, state: dict[str, list[dict[str, str]]]
) -> None:
    people, pharmacies = state["people"], state["pharmacies"]
    async with httpx.AsyncClient(
        base_url=url, timeout=60, limits=httpx.Limits(max_connections=concurrency)
    ) as http:
        for p in pharmacies:
            env = {
                "infno": "9001",
                "msgid": f"{p['code']}{datetime.now(BEIJING):%Y%m%d%H%M%S}{secrets.randbelow(10000):04d}",
                "fixmedins_code": p["code"],
                "input": {},
            }
            r = (
                await http.post("/fsi/api/9001", json=env, headers=headers(p["code"], p["token"]))
            ).json()
            p["sign_no"] = r["output"]["signinoutb"]["sign_no"]
        counter = iter(range(total))
        failures = 0
        latencies: list[float] = []

        async def worker(w: int) -> None:
            nonlocal failures
            for i in counter:
                p, person = pharmacies[i % len(pharmacies)], people[(i * 7 + w) % len(people)]
                env = {
                    "infno": "2102",
                    "msgid": f"{p['code']}{datetime.now(BEIJING):%Y%m%d%H%M%S}{i % 10000:04d}",
                    "fixmedins_code": p["code"],
                    "sign_no": p["sign_no"],
                    "input": {
                        "druginfo": {
                            "psn_no": person["psn_no"],
                            "mdtrt_cert_type": "02",
                            "mdtrt_cert_no": person["id_number"],
                            "medfee_sumamt": "30.00",
                            "insutype": "310",
                            "acct_used_flag": "1",
                        },
                        "drugdetail": [
                            {
                                "feedetl_sn": "1",
                                "med_list_codg": "XA01ABD075A002010100483",
                                "pric": "15.00",
                                "cnt": "2",
                                "det_item_fee_sumamt": "30.00",
                            }
                        ],
                    },
                }
                start = time.perf_counter()
                answer = (
                    await http.post(
                        "/fsi/api/2102", json=env, headers=headers(p["code"], p["token"])
                    )
                ).json()
                latencies.append(time.perf_counter() - start)
                if answer["infcode"] != 0:
                    failures += 1
                    if failures < 3:
                        print(answer["err_msg"])

        began = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(concurrency)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    print(
        f"{total} settlements in {elapsed:.1f}s: {total / elapsed:.0f}/s, failures {failures}, "
        f"p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, p99 {latencies[int(len(latencies) * 0.99)] * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", action="store_true")
    parser.add_argument("--persons", type=int, default=500)
    parser.add_argument("--url", default="http://127.0.0.1:8800")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    if args.seed:
        STATE.parent.mkdir(exist_ok=True)
        STATE.write_text(json.dumps(asyncio.run(seed(args.persons))))
    else:
        state = json.loads(STATE.read_text())
        asyncio.run(run(args.url, args.requests, args.concurrency, state))


if __name__ == "__main__":
    main()
