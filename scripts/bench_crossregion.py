"""异地就医's cost at the treatment region: cross-region 2207 at B against in-region 2207 at B.

    scripts/bench crossregion                    # 300 bills each way, 8 clients
    scripts/bench crossregion --bills 600 --clients 16

Two deployments on two PostgreSQL 15 clusters, as scripts/run-two starts them (its clusters
15/regiona on :5434 and 15/regionb on :5433, created when missing; run as root), each on a
database of this benchmark's own (`yibao_bench_xr`, dropped and made again): A (深圳 440300,
the insured region: persons with accounts and a 备案 to 上海) and B (上海 310000, the treatment
region: the catalogue, a hospital, and persons insured in B itself). Each server is uvicorn as in
production with one worker (the machine has two cores for both servers, both PostgreSQLs and
this client).

For every bill a visit is opened and its fee lines uploaded first (2201, 2204; not measured);
then the 2207s are sent by `--clients` concurrent clients, all the cross-region ones (B asks A)
and then all the in-region ones (B alone), each timed from send to answer; the throughput is the
bills settled over the wall time of the phase. Every answer must be infcode 0. Then one peer
round trip alone: B's signed `policy` message to A and A's signed answer, sequentially,
`--round-trips` times (the message cross-region settlement adds, less A's own work on the bill).
"""

# ruff: noqa: S603, S607 - runs Debian's PostgreSQL tools with arguments it builds itself
from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import random
import secrets
import statistics
import subprocess
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx

from yibao.kernel.clock import CHINA_TZ
from yibao_bench.server import free_port, uvicorn_command

ROOT = Path(__file__).resolve().parent.parent

PGV = "15"
CLUSTERS = {"a": ("regiona", 5434), "b": ("regionb", 5433)}
DB = "yibao_bench_xr"
HOME, TREATMENT = "440300", "310000"
HOSPITAL = ("H31010400012", "上海市徐汇区中心医院")
CATALOGUE = [
    ("001102000010000", "普通门诊诊查费", "service", "01", "", "20.00"),
    ("XA01ABD075A002010100483", "阿莫西林胶囊", "drug", "01", "", ""),
    ("XC09AAD012A001010104291", "缬沙坦胶囊", "drug", "02", "", ""),
]
DATA_KEY = base64.b64encode(b"b" * 32).decode()
SECRET_KEY = "bench-crossregion-" + "x" * 20


def ensure_cluster(name: str, port: int) -> str:
    """The cluster running (made as scripts/run-two makes it), with a fresh bench database."""
    listed = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True)
    if not any(line.split()[:2] == [PGV, name] for line in listed.stdout.splitlines()):
        subprocess.run(
            [
                *("pg_createcluster", PGV, name, "--port", str(port)),
                *("--", "--auth-local=trust", "--auth-host=trust"),
            ],
            check=True,
            capture_output=True,
        )
    subprocess.run(["pg_ctlcluster", PGV, name, "start"], capture_output=True, check=False)
    for _ in range(100):
        if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)]).returncode == 0:
            break
        time.sleep(0.2)
    psql = ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-qc"]
    subprocess.run([*psql, f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)"], check=True)
    subprocess.run([*psql, f"CREATE DATABASE {DB}"], check=True)
    return f"postgresql+asyncpg://postgres@127.0.0.1:{port}/{DB}"


def settings(url: str, deployment: str, seed: str, var: Path) -> Any:
    from yibao.config import Settings

    return Settings(
        environment="production",
        database_url=url,
        data_key=DATA_KEY,
        secret_key=SECRET_KEY,
        var_dir=var,
        peer_id=deployment,
        peer_key=seed,
        _env_file=None,  # type: ignore[call-arg]
    )


def directory(a_seed: str, b_seed: str, a_url: str, b_url: str) -> str:
    from yibao.crossregion.signing import public_key_of

    return json.dumps(
        {
            "regions": [
                {"admdvs": HOME, "region_name": "深圳市", "deployment": "shenzhen",
                 "base_url": a_url, "public_key": public_key_of(a_seed)},
                {"admdvs": TREATMENT, "region_name": "上海市", "deployment": "shanghai",
                 "base_url": b_url, "public_key": public_key_of(b_seed)},
            ]
        },
        ensure_ascii=False,
    )  # fmt: skip


async def enrol(runtime: Any, admdvs: str, district: str, count: int) -> list[dict[str, Any]]:
    from yibao.cli.demo import REGIONS, make_id_number
    from yibao.enrolment import service as enrolment
    from yibao.ledger import repository as ledger
    from yibao.ledger.domain import EntryKind

    rng = random.Random(admdvs)  # noqa: S311 - made-up persons
    people: list[dict[str, Any]] = []
    async with runtime.sessions() as session:
        for region in REGIONS:
            await enrolment.define_region(session, region)
        rows, seen = [], set()
        while len(rows) < count:
            n = len(rows)
            birth = date(1960 + n % 40, 1 + n % 12, 1 + n % 28)
            id_number = make_id_number(rng, district, birth, n % 2 == 0)
            if id_number in seen:
                continue
            seen.add(id_number)
            new = enrolment.NewPerson(f"压测{n}", id_number, None, admdvs, "310", "1101", "单位")
            rows.append((n + 1, new))
        done, errors = await enrolment.enrol_many(session, runtime.cipher, runtime.clock, rows)
        assert not errors, errors[:3]
        for (_, new), enrolled in zip(rows, done, strict=True):
            account = await ledger.account_for_person(session, enrolled.person.id, lock=True)
            assert account is not None
            await ledger.post(
                session,
                account,
                ledger.Posting(
                    EntryKind.CONTRIBUTION_CREDIT, 10_000_000, f"bench:{enrolled.person.id}", "划入"
                ),
                runtime.clock.now(),
            )
            people.append(
                {"psn_no": enrolled.person.psn_no, "id": enrolled.person.id, "cert": new.id_number}
            )
        await session.commit()
    return people


async def seed(a: Any, b: Any, text: str, bills: int) -> tuple[list[Any], list[Any], str]:
    from yibao.crossregion import service as crossregion
    from yibao.filings import service as filings
    from yibao.filings.domain import DocumentKind, FilingKind
    from yibao.kernel.clock import china_today
    from yibao.runtime import build_runtime
    from yibao.settlement import service as settlement

    home = build_runtime(a)
    try:
        away = await enrol(home, HOME, "440305", bills)
        async with home.sessions() as session:
            await crossregion.load_directory(session, home, text)
        for p in away:
            async with home.sessions() as session:
                await filings.file(
                    session,
                    home.clock,
                    filings.person_actor(p["id"], "压测"),
                    p["id"],
                    filings.Application(
                        kind=FilingKind.WORKING_AWAY,
                        treatment_admdvs=TREATMENT,
                        treatment_name="上海市",
                        begins=china_today(home.clock),
                        document_kind=DocumentKind.DECLARATION,
                        document_note="常驻上海工作",
                    ),
                )
    finally:
        await home.close()
    treatment = build_runtime(b)
    try:
        local = await enrol(treatment, TREATMENT, "310104", bills)
        async with treatment.sessions() as session:
            await crossregion.load_directory(session, treatment, text)
            rows = [
                (i, settlement.CatalogueRow(code, name, kind, level, share, cap))
                for i, (code, name, kind, level, share, cap) in enumerate(CATALOGUE, start=1)
            ]
            assert not (await settlement.import_catalogue(session, rows)).errors
            made = await settlement.add_institution(
                session,
                treatment.cipher,
                treatment.clock,
                settlement.NewInstitution(*HOSPITAL, TREATMENT, level="三级甲等"),
            )
    finally:
        await treatment.close()
    return away, local, made.token


class Hospital:
    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http, self.token, self.sign_no, self.n = http, token, "", 0

    async def call(self, infno: str, payload: dict[str, Any], insured_in: str) -> dict[str, Any]:
        self.n += 1
        ts, nonce = str(int(time.time())), secrets.token_hex(8)
        signature = hashlib.sha256(f"{ts}{self.token}{nonce}{ts}".encode()).hexdigest()
        now = datetime.now(CHINA_TZ)
        envelope = {
            "infno": infno,
            "msgid": f"{HOSPITAL[0]}{now:%Y%m%d%H%M%S}{self.n % 10000:04d}",
            "mdtrtarea_admvs": TREATMENT,
            "insuplc_admdvs": insured_in,
            "recer_sys_code": "FSI_LOCAL",
            "infver": "V1.0",
            "opter_type": "1",
            "opter": "001",
            "opter_name": "收费员",
            "inf_time": f"{now:%Y-%m-%d %H:%M:%S}",
            "fixmedins_code": HOSPITAL[0],
            "fixmedins_name": HOSPITAL[1],
            "sign_no": self.sign_no,
            "input": payload,
        }
        headers = {
            "x-tif-paasid": HOSPITAL[0].lower(),
            "x-tif-timestamp": ts,
            "x-tif-nonce": nonce,
            "x-tif-signature": signature,
        }
        response = await self.http.post(
            "/fsi/api/rsfComIfsService/callService", json=envelope, headers=headers
        )
        answer: dict[str, Any] = response.json()
        return answer

    async def open_bill(self, person: dict[str, Any], insured_in: str) -> dict[str, Any]:
        """2201 and 2204: a visit with a consultation and two drugs (¥30 + ¥25 + ¥12)."""
        common = {"psn_no": person["psn_no"], "insutype": "310", "med_type": "11"}
        visit = await self.call(
            "2201",
            {"data": {**common, "mdtrt_cert_type": "02", "mdtrt_cert_no": person["cert"]}},
            insured_in,
        )
        assert visit["infcode"] == 0, visit
        mdtrt_id = visit["output"]["data"]["mdtrt_id"]
        lines = [("001102000010000", "30.00", "1"), (CATALOGUE[1][0], "12.50", "2")]
        lines.append((CATALOGUE[2][0], "12.00", "1"))
        fees = await self.call(
            "2204",
            {
                "feedetail": [
                    {
                        "feedetl_sn": f"F{n}",
                        "mdtrt_id": mdtrt_id,
                        "psn_no": person["psn_no"],
                        "med_list_codg": code,
                        "medins_list_codg": f"L{n}",
                        "pric": price,
                        "cnt": cnt,
                        "det_item_fee_sumamt": f"{float(price) * int(cnt):.2f}",
                        "fee_ocur_time": f"{datetime.now(CHINA_TZ):%Y-%m-%d %H:%M:%S}",
                    }
                    for n, (code, price, cnt) in enumerate(lines)
                ]
            },
            insured_in,
        )
        assert fees["infcode"] == 0, fees
        return {
            "data": {
                **common,
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": person["cert"],
                "medfee_sumamt": "67.00",
                "mdtrt_id": mdtrt_id,
                "acct_used_flag": "1",
            }
        }


def summary(latencies: list[float], wall: float) -> dict[str, float]:
    ordered = sorted(latencies)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "bills": len(ordered),
        "p50_ms": round(q[49] * 1000, 1),
        "p99_ms": round(q[98] * 1000, 1),
        "per_second": round(len(ordered) / wall, 1),
    }


async def settle_all(
    hospital: Hospital, bills: list[dict[str, Any]], insured_in: str, clients: int
) -> dict[str, float]:
    queue = list(bills)
    latencies: list[float] = []

    async def client() -> None:
        while queue:
            bill = queue.pop()
            started = time.perf_counter()
            answer = await hospital.call("2207", bill, insured_in)
            latencies.append(time.perf_counter() - started)
            assert answer["infcode"] == 0, answer

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return summary(latencies, time.perf_counter() - started)


async def round_trips(b: Any, count: int) -> dict[str, float]:
    from yibao.crossregion import service as crossregion
    from yibao.crossregion.link import HttpPeerLink
    from yibao.crossregion.signing import Signer
    from yibao.runtime import build_runtime

    runtime = build_runtime(b)
    link = HttpPeerLink(Signer("shanghai", b.peer_key_bytes()), timeout=10)
    try:
        async with runtime.sessions() as session:
            peer = await crossregion.home_peer(session, HOME)
        latencies = []
        started = time.perf_counter()
        for _ in range(count):
            t = time.perf_counter()
            await link.send(peer, "policy", {"treatment_admdvs": TREATMENT, "home_admdvs": HOME})
            latencies.append(time.perf_counter() - t)
        result = summary(latencies, time.perf_counter() - started)
        return {"messages": result["bills"], "p50_ms": result["p50_ms"], "p99_ms": result["p99_ms"]}
    finally:
        await link.close()
        await runtime.close()


def serve(url: str, deployment: str, seed: str, port: int, var: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIBAO_")}
    env.update(
        YIBAO_ENVIRONMENT="production",
        YIBAO_DATABASE_URL=url,
        YIBAO_DATA_KEY=DATA_KEY,
        YIBAO_SECRET_KEY=SECRET_KEY,
        YIBAO_VAR_DIR=str(var),
        YIBAO_PEER_ID=deployment,
        YIBAO_PEER_KEY=seed,
        YIBAO_LOG_LEVEL="warning",
    )
    var.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        uvicorn_command(port, workers=1), env=env, cwd=var, start_new_session=True
    )
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{deployment}: the server did not start")


async def main(args: argparse.Namespace) -> dict[str, Any]:
    from yibao.db.migrate import upgrade

    a_url = ensure_cluster(*CLUSTERS["a"])
    b_url = ensure_cluster(*CLUSTERS["b"])
    for url in (a_url, b_url):  # Alembic runs its own event loop
        await asyncio.to_thread(upgrade, url)
    a_seed = base64.b64encode(secrets.token_bytes(32)).decode()
    b_seed = base64.b64encode(secrets.token_bytes(32)).decode()
    a_port, b_port = free_port(), free_port()
    var = ROOT / "var" / "bench-crossregion"
    a = settings(a_url, "shenzhen", a_seed, var / "a")
    b = settings(b_url, "shanghai", b_seed, var / "b")
    text = directory(a_seed, b_seed, f"http://127.0.0.1:{a_port}", f"http://127.0.0.1:{b_port}")
    away, local, token = await seed(a, b, text, args.bills)
    servers = [
        serve(a_url, "shenzhen", a_seed, a_port, var / "a"),
        serve(b_url, "shanghai", b_seed, b_port, var / "b"),
    ]
    try:
        limits = httpx.Limits(max_connections=args.clients)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{b_port}", timeout=60, limits=limits
        ) as http:
            hospital = Hospital(http, token)
            signed = await hospital.call(
                "9001", {"signIn": {"opter_no": "001", "mac": "", "ip": ""}}, TREATMENT
            )
            hospital.sign_no = signed["output"]["signinoutb"]["sign_no"]
            cross = [await hospital.open_bill(p, HOME) for p in away]
            own = [await hospital.open_bill(p, TREATMENT) for p in local]
            results = {
                "cross_region_2207": await settle_all(hospital, cross, HOME, args.clients),
                "in_region_2207": await settle_all(hospital, own, TREATMENT, args.clients),
                "peer_round_trip": await round_trips(b, args.round_trips),
                "clients": args.clients,
                "cores": os.cpu_count(),
            }
    finally:
        for process in servers:
            process.terminate()
            process.wait(timeout=30)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bills", type=int, default=300, help="2207s of each kind")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--round-trips", type=int, default=300, help="peer round trips alone")
    found = asyncio.run(main(parser.parse_args()))
    print(json.dumps(found, ensure_ascii=False, indent=2))
