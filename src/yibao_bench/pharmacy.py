"""The 2102 (药店结算) pool: a pharmacy sale settled in one message, nothing written beforehand.

Each line is a signed 2102 for a random person at a pharmacy of their region: `druginfo` with
the person's ID number as the certificate, and `drugdetail` with three drug lines of the bench
catalogue (a pharmacy sells drugs, not services), as an HIS sends them. The lines are in the
message, so unlike a 2207 no visit or uploaded fee lines are prepared; the file layout is the
2207 pool's, so the same wrk script sends it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import numpy as np

from yibao.kernel.clock import CHINA_TZ
from yibao.kernel.pii import PersonalDataCipher
from yibao_bench.pools import Hospital, envelope, random_persons, signed_headers, write_pool
from yibao_bench.reference import CATALOGUE

# Drugs only: a national drug code starts with a letter (services start with digits).
_DRUGS = [item for item in CATALOGUE if item[0][0].isalpha() and not item[0].startswith("HA")]


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


async def pharmacy_pool(
    dsn: str,
    cipher: PersonalDataCipher,
    pharmacies: list[Hospital],
    *,
    persons: int,
    count: int,
    out_dir: Path,
    threads: int,
    seed: int,
) -> int:
    """Write `count` signed 2102 messages, split over one file per wrk thread."""
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    stamp = f"{now.astimezone(CHINA_TZ):%Y%m%d%H%M%S}"
    by_region: dict[str, list[Hospital]] = {}
    for p in pharmacies:
        by_region.setdefault(p.admdvs, []).append(p)
    conn = await asyncpg.connect(dsn)
    try:
        people = await random_persons(conn, persons, count, seed)
    finally:
        await conn.close()
    lines: list[list[str]] = [[] for _ in range(threads)]
    for n, person in enumerate(people):
        choices = by_region[person["admdvs"]]
        pharmacy = choices[int(rng.integers(0, len(choices)))]
        seq = f"{stamp[:-6]}{(int(stamp[-6:]) + n // 10_000):06d}"
        details: list[dict[str, Any]] = []
        total = 0
        picks = rng.choice(len(_DRUGS), size=3, replace=False)
        for sn, pick in enumerate(picks, start=1):
            code, _, _, price, _ = _DRUGS[int(pick)]
            cnt = int(rng.integers(1, 4))
            total += price * cnt
            details.append(
                {
                    "feedetl_sn": str(sn),
                    "med_list_codg": code,
                    "pric": _yuan(price),
                    "cnt": str(cnt),
                    "det_item_fee_sumamt": _yuan(price * cnt),
                }
            )
        druginfo = {
            "psn_no": person["psn_no"],
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": cipher.decrypt(person["id_number_enc"], purpose="id_number"),
            "med_type": "41",
            "medfee_sumamt": _yuan(total),
            "insutype": "310",
            "acct_used_flag": "1",
            "psn_setlway": "01",
        }
        msgid = f"{pharmacy.code}{seq}{n % 10_000:04d}"
        body = json.dumps(
            envelope("2102", msgid, pharmacy, {"druginfo": druginfo, "drugdetail": details}, now),
            ensure_ascii=False,
            separators=(",", ":"),
        )
        gateway = signed_headers(pharmacy.code, pharmacy.token)
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
    write_pool(out_dir, "settle", lines)
    return len(people)
