"""A's server stopped, for real: B (上海) settles a sale of a person insured in A (深圳) at its
pharmacy while A's uvicorn is down, each deployment a real server on a database of its own
PostgreSQL 15 cluster (tests/support/clusters.py), as the crash test runs them.

- A's region refuses (the default): B answers the pharmacy a clear refusal and keeps nothing;
- A's region allows cash (the directory's `when_unreachable`): the same sale settles, all of it
  the person's cash, and B keeps the record;
- `yibao worker --once` at B while A is still down keeps the record for later; once A is back
  the record reaches A, and running B's worker twice more leaves it there once; A's balance
  never moved.
"""

from __future__ import annotations

import asyncio
import base64
import os
import random
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest

from tests.integration.test_crossregion_crash import (
    DATA_KEY,
    PHARMACY,
    SECRET_KEY,
    _build,
    _server,
    _settings,
)
from tests.support.clusters import Cluster
from tests.support.crash import dsn, fresh_database, sale
from tests.support.two_regions import CrossInstitution, directory_json
from yibao.crossregion import service as crossregion
from yibao.runtime import build_runtime
from yibao_bench.server import free_port

pytestmark = pytest.mark.postgres

TREATMENT = "310000"


async def _rows(url: str, sql: str) -> list[Any]:
    conn = await asyncpg.connect(dsn(url), timeout=10)
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


def _worker_once(env: dict[str, str], tmp: Path) -> None:
    """B's `yibao worker --once`, a process of its own, as an operator (or systemd) restarts it."""
    yibao = Path(sys.executable).parent / "yibao"
    done = subprocess.run(  # noqa: S603 - our own console script
        [str(yibao), "worker", "--once"],
        env=env,
        cwd=tmp,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]


def test_a_stopped(tmp_path: Path, pg_clusters: tuple[Cluster, Cluster]) -> None:
    a_cluster, b_cluster = pg_clusters
    with (
        fresh_database(a_cluster.admin_url) as a_url,
        fresh_database(b_cluster.admin_url) as b_url,
    ):
        asyncio.run(_scenario(a_url, b_url, tmp_path))


async def _scenario(a_url: str, b_url: str, tmp: Path) -> None:
    a_seed = base64.b64encode(secrets.token_bytes(32)).decode()
    b_seed = base64.b64encode(secrets.token_bytes(32)).decode()
    a_port, b_port = free_port(), free_port()
    urls = (f"http://127.0.0.1:{a_port}", f"http://127.0.0.1:{b_port}")
    a_settings = _settings(a_url, tmp / "a", "shenzhen", a_seed)
    b_settings = _settings(b_url, tmp / "b", "shanghai", b_seed)
    holders, token = await _build(a_settings, b_settings, directory_json(a_seed, b_seed, *urls))
    a_server = _server(a_url, tmp / "a", "shenzhen", a_seed, a_port)
    b_server = _server(b_url, tmp / "b", "shanghai", b_seed, b_port)
    a_server.start()
    b_server.start()
    rng = random.Random(21)
    holder = holders[0]
    http = httpx.AsyncClient(base_url=b_server.url, timeout=30)
    try:
        pharmacy = CrossInstitution(http, PHARMACY[0], PHARMACY[1], token, TREATMENT)
        await pharmacy.sign_in()
        await asyncio.to_thread(a_server.stop)

        refused = await pharmacy.call("2102", sale(holder, rng))
        assert refused["infcode"] == -1, refused
        assert "无法连接" in refused["err_msg"] and "未结算" in refused["err_msg"]

        async def allow_cash(allowed: bool) -> None:
            text = directory_json(
                a_seed, b_seed, *urls, when_unreachable="cash" if allowed else "refuse"
            )
            b = build_runtime(b_settings)
            try:
                async with b.sessions() as session:
                    await crossregion.load_directory(session, b, text)
            finally:
                await b.close()

        await allow_cash(True)
        bill = sale(holder, rng)
        msgid = pharmacy.new_msgid()
        sold = await pharmacy.call("2102", bill, msgid=msgid)
        assert sold["infcode"] == 0, sold
        info = sold["output"]["setlinfo"]
        assert info["psn_cash_pay"] == bill["druginfo"]["medfee_sumamt"]
        assert info["fund_pay_sumamt"] == "0.00" and info["acct_pay"] == "0.00"
        assert "全额自付" in (sold["warn_msg"] or "")

        # Back to refusing: refused again, whatever was settled before stays.
        await allow_cash(False)
        assert (await pharmacy.call("2102", sale(holder, rng)))["infcode"] == -1
        await allow_cash(True)

        b_env = {k: v for k, v in os.environ.items() if not k.startswith("YIBAO_")}
        b_env.update(
            YIBAO_ENVIRONMENT="production",
            YIBAO_DATABASE_URL=b_url,
            YIBAO_DATA_KEY=DATA_KEY,
            YIBAO_SECRET_KEY=SECRET_KEY,
            YIBAO_VAR_DIR=str(tmp / "b" / "var"),
            YIBAO_PEER_ID="shanghai",
            YIBAO_PEER_KEY=b_seed,
            YIBAO_PEER_TIMEOUT_SECONDS="3",
            YIBAO_LOG_LEVEL="warning",
        )
        # The worker while A is still down: the record stays, to be offered again.
        await asyncio.to_thread(_worker_once, b_env, tmp / "b")
        (row,) = await _rows(
            b_url,
            "SELECT message_id, delivered_at, delivery_attempts FROM crossregion_settlements"
            " WHERE mode = 'cash'",
        )
        assert row["delivered_at"] is None and row["delivery_attempts"] == 1
        assert await _rows(a_url, "SELECT id FROM crossregion_claims") == []

        await asyncio.to_thread(a_server.start)
        # Due again after its backoff (15 s), as the running worker would find it.
        await _rows(
            b_url,
            "UPDATE crossregion_settlements SET next_delivery_at = next_delivery_at - interval '1 hour'",
        )
        for _ in range(3):  # delivered by the first; the next two restarts find nothing to do
            await asyncio.to_thread(_worker_once, b_env, tmp / "b")
            claims = await _rows(
                a_url, "SELECT message_id, status, cash_pay_fen FROM crossregion_claims"
            )
            assert [(c["message_id"], c["status"]) for c in claims] == [
                (f"shanghai:{msgid}", "cash")
            ]
        (row,) = await _rows(
            b_url,
            "SELECT delivered_at, delivery_attempts FROM crossregion_settlements"
            " WHERE mode = 'cash'",
        )
        assert row["delivered_at"] is not None and row["delivery_attempts"] == 2
        (balance,) = await _rows(
            a_url, f"SELECT balance_fen FROM personal_accounts WHERE person_id = {holder.person_id}"
        )
        assert balance["balance_fen"] == holder.funded_fen
        notices = await _rows(
            a_url, "SELECT subject FROM outbox_messages WHERE dedup_key LIKE 'xr-cash:%'"
        )
        assert len(notices) == 1
    finally:
        await http.aclose()
        b_server.stop()
        a_server.stop()
