"""Requests prepared before a workload, so the load generator only sends.

Settlement: the institutions sign in (9001) through the interface; each prepared 2207 is for a
random person at a hospital of their region, with a visit and three uploaded fee lines already in
place (written here as 2201 and 2204 would write them), a fresh msgid, a fresh nonce and a valid
x-tif-signature. The gateway allows 300 s of clock drift, so a pool is made right before its run.

Query: random persons get an online account and a bearer session stepped up for the run, written
as identity's sign-in and verification would write them (one argon2 hash shared by all: the
benchmark measures reading an account, not hashing passwords).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import numpy as np

from yibao.identity import service as identity
from yibao.kernel.clock import CHINA_TZ
from yibao.kernel.pii import PersonalDataCipher
from yibao_bench.reference import CATALOGUE, institution_codes


@dataclass(frozen=True)
class Hospital:
    code: str
    name: str
    admdvs: str
    token: str
    sign_no: str = ""


def signed_headers(code: str, token: str) -> dict[str, str]:
    timestamp = str(int(time.time()))
    nonce = secrets.token_hex(16)
    signature = hashlib.sha256(f"{timestamp}{token}{nonce}{timestamp}".encode()).hexdigest()
    return {
        "x-tif-paasid": code.lower(),
        "x-tif-timestamp": timestamp,
        "x-tif-nonce": nonce,
        "x-tif-signature": signature,
    }


def envelope(
    infno: str, msgid: str, hospital: Hospital, payload: dict[str, Any], now: datetime
) -> dict[str, Any]:
    return {
        "infno": infno,
        "msgid": msgid,
        "mdtrtarea_admvs": hospital.admdvs,
        "insuplc_admdvs": hospital.admdvs,
        "recer_sys_code": "BENCH",
        "infver": "V1.0",
        "opter_type": "1",
        "opter": "bench",
        "opter_name": "压测",
        "inf_time": f"{now.astimezone(CHINA_TZ):%Y-%m-%d %H:%M:%S}",
        "fixmedins_code": hospital.code,
        "fixmedins_name": hospital.name,
        "sign_no": hospital.sign_no,
        "input": payload,
    }


def sign_in_hospitals(base_url: str, seed: int, kind: str = "H") -> list[Hospital]:
    """9001 for every bench hospital (`kind` "H") or pharmacy ("P"), through the interface;
    returns them with their sign_no."""
    signed = []
    now = datetime.now(UTC)
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for n, (code, name, admdvs, token) in enumerate(institution_codes(seed)):
            if not code.startswith(kind):
                continue
            hospital = Hospital(code, name, admdvs, token)
            msgid = f"{code}{now.astimezone(CHINA_TZ):%Y%m%d%H%M%S}{9000 + n % 1000:04d}"
            body = envelope("9001", msgid, hospital, {"signIn": {"opter_no": "bench"}}, now)
            answer = client.post(
                "/fsi/api/rsfComIfsService/callService",
                content=json.dumps(body, ensure_ascii=False).encode(),
                headers={"Content-Type": "application/json", **signed_headers(code, token)},
            ).json()
            if answer.get("infcode") != 0:
                raise RuntimeError(f"9001 refused for {code}: {answer.get('err_msg')}")
            sign_no = answer["output"]["signinoutb"]["sign_no"]
            signed.append(Hospital(code, name, admdvs, token, sign_no))
    return signed


async def random_persons(
    conn: asyncpg.Connection, persons: int, count: int, seed: int
) -> list[Any]:
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, persons + 1, count).tolist()
    rows = await conn.fetch(
        "SELECT p.id, p.psn_no, p.id_number_enc, e.admdvs FROM persons p"
        " JOIN enrolments e ON e.person_id = p.id AND e.insutype = '310'"
        " WHERE p.id = ANY($1::bigint[])",
        ids,
    )
    by_id = {r["id"]: r for r in rows}
    return [by_id[i] for i in ids if i in by_id]


async def settlement_pool(
    dsn: str,
    cipher: PersonalDataCipher,
    hospitals: list[Hospital],
    *,
    persons: int,
    count: int,
    out_dir: Path,
    threads: int,
    seed: int,
) -> int:
    """Write `count` signed 2207 messages, split over one file per wrk thread."""
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    stamp = f"{now.astimezone(CHINA_TZ):%Y%m%d%H%M%S}"
    by_region: dict[str, list[Hospital]] = {}
    for h in hospitals:
        by_region.setdefault(h.admdvs, []).append(h)
    levels: dict[str, list[tuple[str, str, str, int, int | None]]] = {}
    for item in CATALOGUE:
        levels.setdefault(item[2], []).append(item)
    conn = await asyncpg.connect(dsn)
    try:
        people = await random_persons(conn, persons, count, seed)
        visit_ids = [
            r[0]
            for r in await conn.fetch(
                "SELECT nextval(pg_get_serial_sequence('visits', 'id')) FROM generate_series(1, $1)",
                len(people),
            )
        ]
        visits: list[tuple[Any, ...]] = []
        fees: list[tuple[Any, ...]] = []
        lines: list[list[str]] = [[] for _ in range(threads)]
        for n, (person, visit_id) in enumerate(zip(people, visit_ids, strict=True)):
            choices = by_region[person["admdvs"]]
            hospital = choices[int(rng.integers(0, len(choices)))]
            mdtrt_id = f"MB{stamp}{n:010d}"
            seq = f"{stamp[:-6]}{(int(stamp[-6:]) + n // 10_000):06d}"
            items = [
                levels["01"][int(rng.integers(0, len(levels["01"])))],
                levels["02"][int(rng.integers(0, len(levels["02"])))],
                CATALOGUE[int(rng.integers(0, len(CATALOGUE)))],
            ]
            total = 0
            visits.append(
                (
                    visit_id,
                    mdtrt_id,
                    person["id"],
                    hospital.code,
                    "11",
                    "310",
                    "open",
                    now,
                    f"{hospital.code}{stamp}{n % 10_000:04d}",
                )
            )
            for sn, (code, _, _, price, _) in enumerate(items, start=1):
                cnt = int(rng.integers(1, 4))
                total += price * cnt
                fees.append(
                    (
                        visit_id,
                        str(sn),
                        code,
                        code,
                        price,
                        str(cnt),
                        price * cnt,
                        f"{now.astimezone(CHINA_TZ):%Y-%m-%d %H:%M:%S}",
                    )
                )
            id_number = cipher.decrypt(person["id_number_enc"], purpose="id_number")
            data = {
                "psn_no": person["psn_no"],
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": id_number,
                "med_type": "11",
                "medfee_sumamt": f"{total // 100}.{total % 100:02d}",
                "psn_setlway": "01",
                "mdtrt_id": mdtrt_id,
                "chrg_bchno": f"B{n:08d}",
                "insutype": "310",
                "acct_used_flag": "1",
            }
            msgid = f"{hospital.code}{seq}{n % 10_000:04d}"
            body = json.dumps(
                envelope("2207", msgid, hospital, {"data": data}, now),
                ensure_ascii=False,
                separators=(",", ":"),
            )
            gateway = signed_headers(hospital.code, hospital.token)
            lines[n % threads].append(
                "\t".join(
                    [
                        gateway["x-tif-paasid"],
                        gateway["x-tif-timestamp"],
                        gateway["x-tif-nonce"],
                        gateway["x-tif-signature"],
                        body,
                    ]
                )
            )
        async with conn.transaction():
            await conn.copy_records_to_table(
                "visits",
                records=visits,
                columns=[
                    "id",
                    "mdtrt_id",
                    "person_id",
                    "fixmedins_code",
                    "med_type",
                    "insutype",
                    "status",
                    "begin_at",
                    "msgid",
                ],
            )
            await conn.copy_records_to_table(
                "fee_details",
                records=fees,
                columns=[
                    "visit_id",
                    "feedetl_sn",
                    "med_list_codg",
                    "medins_list_codg",
                    "pric_fen",
                    "cnt",
                    "det_item_fee_sumamt_fen",
                    "fee_ocur_time",
                ],
            )
    finally:
        await conn.close()
    write_pool(out_dir, "settle", lines)
    return len(people)


async def query_pool(
    dsn: str,
    *,
    persons: int,
    count: int,
    out_dir: Path,
    threads: int,
    seed: int,
    step_up: timedelta,
    idle_timeout: timedelta | None = None,
) -> int:
    """Bearer tokens of `count` random persons, stepped up, one file per wrk thread.

    With `idle_timeout`, each session's recorded last use is spread over identity's touch
    interval before now, as sessions in steady use have it (identity writes it anew once that
    much has passed), so the measured pass makes the touches a live server makes, neither all
    of them at once nor none."""
    from argon2 import PasswordHasher

    conn = await asyncpg.connect(dsn)
    try:
        people = await random_persons(conn, persons, count, seed)
        ids = sorted({p["id"] for p in people})
        now = datetime.now(UTC)
        password_hash = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).hash(
            secrets.token_urlsafe(12) + "!Aa1"
        )
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO online_accounts (person_id, phone_enc, phone_hash, phone_masked,"
                " password_hash, real_name_method, real_name_verified_at, failed_count, created_at)"
                " SELECT id, phone_enc, phone_hash, phone_masked, $1, 'counter', $2, 0, $2"
                " FROM persons WHERE id = ANY($3::bigint[]) ON CONFLICT DO NOTHING",
                password_hash,
                now,
                ids,
            )
            accounts = await conn.fetch(
                "SELECT id, person_id FROM online_accounts WHERE person_id = ANY($1::bigint[])",
                ids,
            )
            tokens = [secrets.token_urlsafe(32) for _ in accounts]
            within = identity.touch_interval(idle_timeout) if idle_timeout else timedelta(0)
            spread = np.random.default_rng(seed).uniform(0, 1, len(accounts))
            last_used = [now - within * float(f) for f in spread]
            await conn.copy_records_to_table(
                "sign_in_sessions",
                records=[
                    (
                        hashlib.sha256(token.encode()).hexdigest(),
                        "person",
                        row["id"],
                        "bearer",
                        now,
                        last,
                        now + step_up,
                        "yibao-bench",
                    )
                    for token, row, last in zip(tokens, accounts, last_used, strict=True)
                ],
                columns=[
                    "id",
                    "kind",
                    "account_id",
                    "via",
                    "created_at",
                    "last_seen_at",
                    "step_up_until",
                    "user_agent",
                ],
            )
    finally:
        await conn.close()
    write_pool(out_dir, "tokens", [tokens[t::threads] for t in range(threads)])
    return len(tokens)


def write_pool(out_dir: Path, name: str, per_thread: list[list[str]]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for t, lines in enumerate(per_thread, start=1):
        (out_dir / f"{name}-{t}.txt").write_text("\n".join(lines) + "\n")
