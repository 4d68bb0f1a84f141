"""Money survives crashes: a real server under load is SIGKILLed, or loses its database
connections, and afterwards nothing acknowledged is lost, nothing is paid twice, and a retried
message settles once.

The load is a pharmacy's 2102 (药店结算): one message per sale, drug lines and all, paid from the
account. A hospital's 2207 needs a 2201 registration and a 2204 fee upload first, and a visit
settles only once, so a 2207 paid twice would be refused by the visit's state even if the msgid
check were broken; a sale has no such second guard, so the msgid alone must keep a retry from
paying again, and a lapse shows as money.

Each scenario: a fresh PostgreSQL database migrated by the project's migrations, a few dozen
employees with money on their accounts, one pharmacy signed in with 9001, and uvicorn as
production runs it (two workers, in a process group of its own) loaded by 16 tills at once.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest

from tests.support.connections import end_every_connection
from tests.support.crash import (
    PHARMACY,
    CrashWorld,
    Message,
    Server,
    Till,
    build_world,
    dsn,
    fresh_database,
)
from tests.support.fsi import Institution
from yibao.config import Settings
from yibao.kernel.money import format_yuan
from yibao_bench.server import free_port

pytestmark = pytest.mark.postgres

PERSONS = 40
TILLS = 16
DATA_KEY = base64.b64encode(b"c" * 32).decode()
SECRET_KEY = "crash-secret-" + "c" * 20


def _postgres_only(backend: str) -> None:
    if backend != "postgres":
        pytest.skip("a database server to lose connections to: SQLite is a file in the process")


def _settings(url: str, tmp: Path) -> Settings:
    return Settings(
        environment="production",
        database_url=url,
        data_key=DATA_KEY,
        secret_key=SECRET_KEY,
        var_dir=tmp / "var",
        _env_file=None,  # type: ignore[call-arg]
    )


def _server(url: str, tmp: Path) -> Server:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIBAO_")}
    env.update(
        YIBAO_ENVIRONMENT="production",
        YIBAO_DATABASE_URL=url,
        YIBAO_DATA_KEY=DATA_KEY,
        YIBAO_SECRET_KEY=SECRET_KEY,
        YIBAO_VAR_DIR=str(tmp / "var"),
        YIBAO_DB_POOL_SIZE=str(TILLS),
        YIBAO_DB_MAX_OVERFLOW="4",
        YIBAO_LOG_LEVEL="warning",
    )
    return Server(env, free_port(), tmp)


def _client(server: Server) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.url, timeout=20)


async def _settled_rows(url: str) -> dict[str, list[str]]:
    """msgid → the setl_id of each settlement it made, straight from the database."""
    conn = await asyncpg.connect(dsn(url), timeout=10)
    try:
        rows = await conn.fetch("SELECT msgid, setl_id FROM settlements ORDER BY id")
    finally:
        await conn.close()
    made: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        made[row["msgid"]].append(row["setl_id"])
    return made


def _setl_id(answer: dict[str, Any]) -> str:
    return str(answer["output"]["setlinfo"]["setl_id"])


async def _before_retries(url: str, messages: list[Message]) -> None:
    """What the database holds before anything is sent again: every settlement an institution
    was told of is there, and a message answered with a failure made none."""
    made = await _settled_rows(url)
    assert set(made) <= {m.msgid for m in messages}
    for m in messages:
        first = m.settled
        if first is not None:
            assert made.get(m.msgid) == [_setl_id(first)], (m.msgid, made.get(m.msgid))
        elif m.answers:  # answered, and only with failures: it must have written nothing
            assert m.msgid not in made, (m.msgid, [a["err_msg"] for a in m.answers])


def _after_retries(messages: list[Message], acknowledged: dict[str, dict[str, Any]]) -> None:
    for m in messages:
        final = m.answers[-1] if m.answers else None
        assert final is not None and final["infcode"] == 0, (m.msgid, m.lost, m.answers[-3:])
        # An institution told of a settlement hears the same answer again, word for word.
        if m.msgid in acknowledged:
            assert final == acknowledged[m.msgid], m.msgid
        assert {_setl_id(a) for a in m.answers if a["infcode"] == 0} == {_setl_id(final)}


async def _assert_books(url: str, w: CrashWorld, messages: list[Message]) -> None:
    """Every fen accounted for, against the set of messages sent (not merely "some")."""
    conn = await asyncpg.connect(dsn(url), timeout=10)
    try:
        settlements = await conn.fetch("SELECT * FROM settlements ORDER BY id")
        stored = await conn.fetch("SELECT msgid, infno, answer FROM fsi_messages")
        entries = await conn.fetch("SELECT * FROM ledger_entries ORDER BY id")
        accounts = await conn.fetch("SELECT id, person_id, balance_fen FROM personal_accounts")
        items = await conn.fetch(
            "SELECT settlement_id, count(*) AS n, sum(det_item_fee_sumamt_fen) AS fen"
            " FROM settlement_items GROUP BY settlement_id"
        )
        years = await conn.fetch("SELECT * FROM yearly_accumulations")
        notices = await conn.fetchval("SELECT count(*) FROM outbox_messages")
    finally:
        await conn.close()
    sent = {m.msgid: m for m in messages}

    # Nothing paid twice, nothing lost: exactly one settlement per msgid sent, and the answer
    # every institution holds names it.
    per_msgid = Counter(s["msgid"] for s in settlements)
    assert set(per_msgid) == set(sent)
    assert [k for k, n in per_msgid.items() if n != 1] == []
    by_msgid = {s["msgid"]: s for s in settlements}
    for msgid, m in sent.items():
        s = by_msgid[msgid]
        assert s["status"] == "settled" and s["person_id"] == m.holder.person_id
        setlinfo = m.answers[-1]["output"]["setlinfo"]
        assert setlinfo["setl_id"] == s["setl_id"]
        assert setlinfo["acct_pay"] == format_yuan(s["acct_pay_fen"])
        assert setlinfo["medfee_sumamt"] == m.payload["druginfo"]["medfee_sumamt"]
    answers = {r["msgid"]: r for r in stored if r["infno"] == "2102"}
    assert set(answers) == set(sent)
    for msgid, row in answers.items():
        assert json.loads(row["answer"]) == sent[msgid].answers[-1]
    lines = {r["settlement_id"]: (r["n"], r["fen"]) for r in items}
    for s in settlements:
        drugdetail = sent[s["msgid"]].payload["drugdetail"]
        assert lines[s["id"]] == (len(drugdetail), s["medfee_sumamt_fen"]), s["setl_id"]

    # The ledger: each entry's balance_after is the running sum of its account's entries (in
    # the order they were written under the account's lock), the account's balance is that sum
    # and its last entry's balance_after, and it is what was funded less what was paid.
    account_of = {a["person_id"]: a["id"] for a in accounts}
    running: dict[int, int] = defaultdict(int)
    last_after: dict[int, int] = {}
    debits: dict[str, list[Any]] = defaultdict(list)
    for e in entries:
        running[e["account_id"]] += e["amount_fen"]
        assert e["balance_after_fen"] == running[e["account_id"]], e["idempotency_key"]
        last_after[e["account_id"]] = e["balance_after_fen"]
        if e["kind"] == "settlement_debit":
            debits[e["source_id"]].append(e)
    paid: dict[int, int] = defaultdict(int)
    for s in settlements:
        paid[s["person_id"]] += s["acct_pay_fen"]
    for a in accounts:
        assert a["balance_fen"] == running[a["id"]] == last_after[a["id"]], a["person_id"]
    for h in w.holders:
        balance = next(a["balance_fen"] for a in accounts if a["person_id"] == h.person_id)
        assert balance == h.funded_fen - paid[h.person_id] >= 0, h.psn_no

    # Each settlement that paid from an account has exactly one debit for it, and one that paid
    # nothing (an emptied account) has none; no debit names a settlement that does not exist.
    setl_ids = {s["setl_id"] for s in settlements}
    assert set(debits) <= setl_ids
    paying = [s for s in settlements if s["acct_pay_fen"] > 0]
    assert paying
    for s in settlements:
        found = debits.get(s["setl_id"], [])
        if s["acct_pay_fen"] == 0:
            assert found == [], s["setl_id"]
            continue
        assert len(found) == 1, (s["setl_id"], len(found))
        (e,) = found
        assert e["account_id"] == account_of[s["person_id"]]
        assert (e["amount_fen"], e["balance_after_fen"]) == (-s["acct_pay_fen"], s["balc_fen"])
        assert e["idempotency_key"] == f"setl:{s['setl_id']}:own"
    # An in-app notice and an SMS per payment, none for a transaction that rolled back.
    assert notices == 2 * len(paying)

    # The pooled fund's year: paid once per settlement too.
    fund: dict[int, tuple[int, int]] = defaultdict(lambda: (0, 0))
    for s in settlements:
        used, hifp = fund[s["person_id"]]
        fund[s["person_id"]] = (used + s["act_pay_dedc_fen"], hifp + s["hifp_pay_fen"])
    assert sum(hifp for _, hifp in fund.values()) > 0
    assert {y["person_id"]: (y["deductible_used_fen"], y["fund_paid_fen"]) for y in years} == {
        p: v for p, v in fund.items()
    }


async def _signed_in_pharmacy(http: httpx.AsyncClient, w: CrashWorld) -> Institution:
    code, name, admdvs = PHARMACY
    pharmacy = Institution(http, code, name, w.token, admdvs)
    await pharmacy.sign_in()
    return pharmacy


async def _killed_mid_load(url: str, tmp: Path) -> None:
    w = await build_world(_settings(url, tmp), PERSONS)
    server = _server(url, tmp)
    try:
        server.start()
        async with _client(server) as http:
            till = Till(await _signed_in_pharmacy(http, w))

            async def kill_after_a_second() -> None:
                await asyncio.sleep(1.0)
                server.kill()  # SIGKILL to the supervisor and both workers

            await till.load(w.holders, clients=TILLS, seconds=15, during=kill_after_a_second)
        messages = list(till.messages.values())
        failures = [a["err_msg"] for m in messages for a in m.answers if a["infcode"] != 0]
        assert failures == []  # the server was sound until it was killed
        acknowledged = {m.msgid: a for m in messages if (a := m.settled) is not None}
        in_flight = [m for m in messages if m.lost]
        assert acknowledged, "nothing was settled before the kill"
        assert in_flight, "no message was in flight at the kill"

        server.start()
        await _before_retries(url, messages)
        made = await _settled_rows(url)
        committed_unanswered = sum(1 for m in in_flight if m.msgid in made and not m.settled)
        async with _client(server) as http:
            till.pharmacy.http = http  # the day's sign_no outlives the server
            await till.settle_every_message()
        _after_retries(messages, acknowledged)
        await _assert_books(url, w, messages)
        print(
            f"killed: {len(messages)} sales, {len(acknowledged)} acknowledged before the kill,"
            f" {len(in_flight)} in flight, {committed_unanswered} of them committed unanswered"
        )
    finally:
        server.kill()


async def _connections_dropped_mid_load(url: str, tmp: Path) -> None:
    w = await build_world(_settings(url, tmp), PERSONS)
    server = _server(url, tmp)
    ended: list[int] = []
    try:
        server.start()
        async with _client(server) as http:
            till = Till(await _signed_in_pharmacy(http, w))

            async def drop_every_connection_twice() -> None:
                for _ in range(2):
                    await asyncio.sleep(0.8)
                    ended.append(await end_every_connection(url))
                await asyncio.sleep(0.8)

            await till.load(
                w.holders, clients=TILLS, seconds=15, during=drop_every_connection_twice
            )
            messages = list(till.messages.values())
            assert all(n > 0 for n in ended), ended  # the server's connections were there to end
            acknowledged = {m.msgid: a for m in messages if (a := m.settled) is not None}
            refused = Counter(a["err_msg"] for m in messages for a in m.answers if a["infcode"])
            lost = sum(m.lost for m in messages)
            await _before_retries(url, messages)
            await till.settle_every_message()
        _after_retries(messages, acknowledged)
        await _assert_books(url, w, messages)
        print(
            f"dropped: {len(messages)} sales, {sum(ended)} connections ended, {len(acknowledged)}"
            f" answered 0 at once, {lost} without an answer, refused: {dict(refused)}"
        )
    finally:
        server.kill()


def test_a_server_killed_mid_load_loses_nothing_and_pays_nothing_twice(
    backend: str, tmp_path: Path
) -> None:
    _postgres_only(backend)
    with fresh_database() as url:
        asyncio.run(asyncio.wait_for(_killed_mid_load(url, tmp_path), timeout=120))


def test_connections_dropped_mid_load_lose_nothing_and_pay_nothing_twice(
    backend: str, tmp_path: Path
) -> None:
    _postgres_only(backend)
    with fresh_database() as url:
        asyncio.run(asyncio.wait_for(_connections_dropped_mid_load(url, tmp_path), timeout=120))
