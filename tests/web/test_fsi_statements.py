"""The statements a settlement sends: a guard against the hot path growing again, not a timing.

On this machine a round trip to PostgreSQL costs more than the settlement's own arithmetic, so
the number of statements is what a settlement's cost follows (docs/benchmarks-settlement-notes.md).
A warm 2207 on PostgreSQL is one pooled connection and seven statements between BEGIN and COMMIT,
all of them sent to the driver directly (db/direct/): none through SQLAlchemy's execution.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
import httpx
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import settlement_world
from tests.support.fsi import Institution
from yibao.db.reference import reference_cache
from yibao.enrolment import repository as enrolment_repository
from yibao.runtime import Runtime

POSTGRES_2207 = [
    "BEGIN",  # begun by SQLAlchemy's adapter, so the session's commit ends it
    "INSERT INTO ephemeral_entries",  # the gateway nonce, on the adapter's cursor after its BEGIN
    "WITH visit",  # the visit, locked, with its fee lines; the person with their enrolments
    "SELECT yearly_accumulations",  # the year's accumulations, locked (made on first use)
    "SELECT mutual_aid_authorisations",  # 家庭共济: who may pay for this person (none here)
    "SELECT personal_accounts",  # the account, locked
    "WITH new_settlement",  # every write of the settlement
    "INSERT INTO fsi_messages",  # the msgid's claim and its answer
    "COMMIT",
]


# The rows a 2207 adds (a bill of three lines, paid from the person's own account, with its
# in-app and SMS notices), and every index those tables keep: each row and each index entry is a
# WAL record on PostgreSQL (docs/tuning.md, "What a settlement writes"). Updated rows (the visit,
# the year, the account) add none.
ROWS_2207 = {
    "settlements": 1,
    "settlement_items": 3,
    "ledger_entries": 1,
    "outbox_messages": 2,
    "fsi_messages": 1,
    "ephemeral_entries": 1,  # the gateway nonce: an UNLOGGED table on PostgreSQL, no WAL
}
INDEXES_2207 = {
    "settlements": {
        "pk_settlements",
        "uq_settlements_setl_id",
        "ix_settlements_msgid",
        "ix_settlements_person_time",
        "ix_settlements_institution_time",
    },
    "settlement_items": {"pk_settlement_items", "ix_settlement_items_settlement_id"},
    "ledger_entries": {
        "pk_ledger_entries",
        "uq_ledger_entries_idempotency_key",
        "ix_ledger_entries_account_created",
        "uq_ledger_entries_reverses_entry_id",
    },
    "outbox_messages": {
        "pk_outbox_messages",
        "uq_outbox_messages_dedup_key",
        "ix_outbox_messages_due",
    },
    "fsi_messages": {"pk_fsi_messages"},
}


async def _rows(runtime: Runtime) -> dict[str, int]:
    async with runtime.sessions() as session:
        return {
            table: int((await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())
            for table in ROWS_2207
        }


class Statements:
    def __init__(self) -> None:
        self.sent: list[str] = []  # through SQLAlchemy and to the driver directly, in order
        self.through_sqlalchemy = 0
        self.executing = False  # inside SQLAlchemy's execution (its statements are counted once)
        self.checkouts = 0

    def heads(self) -> list[str]:
        """Each statement's verb and table: enough to read the hot path at a glance."""
        heads = []
        for sql in self.sent:
            words = sql.replace(";", " ").split()
            if words[0] == "SELECT":
                table = words[words.index("FROM") + 1] if "FROM" in words else ""
                heads.append(f"SELECT {table}")
            elif words[0] == "WITH":
                heads.append(f"WITH {words[1]}")
            elif words[0] in {"BEGIN", "COMMIT", "ROLLBACK"}:
                heads.append(words[0])
            else:
                heads.append(" ".join(words[:3]))
        return heads


@contextmanager
def counting(runtime: Runtime) -> Iterator[Statements]:
    seen = Statements()
    engine = runtime.engine.sync_engine

    def on_execute(*args: Any) -> None:
        seen.through_sqlalchemy += 1
        seen.sent.append(args[2])
        seen.executing = True

    def on_executed(*_args: Any) -> None:
        seen.executing = False

    def on_checkout(*_args: Any) -> None:
        seen.checkouts += 1

    def recorded(name: str) -> Any:
        original = getattr(asyncpg.Connection, name)

        async def call(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
            seen.sent.append(query)
            return await original(self, query, *args, **kwargs)

        return original, call

    # Statements sent to the driver directly (and asyncpg's BEGIN/COMMIT, which use execute).
    originals = {}
    for name in ("fetch", "fetchrow", "execute"):
        originals[name], call = recorded(name)
        setattr(asyncpg.Connection, name, call)
    # The first statement of a use case's transaction goes through the DBAPI cursor of
    # SQLAlchemy's adapter (db/direct/: so the adapter begins the transaction its commit
    # ends), which runs it as a prepared statement; SQLAlchemy's own statements are counted above.
    prepared_fetch = asyncpg.prepared_stmt.PreparedStatement.fetch

    async def fetch_prepared(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not seen.executing:
            seen.sent.append(self.get_query())
        return await prepared_fetch(self, *args, **kwargs)

    asyncpg.prepared_stmt.PreparedStatement.fetch = fetch_prepared
    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "after_cursor_execute", on_executed)
    event.listen(engine.pool, "checkout", on_checkout)
    try:
        yield seen
    finally:
        for name, original in originals.items():
            setattr(asyncpg.Connection, name, original)
        asyncpg.prepared_stmt.PreparedStatement.fetch = prepared_fetch
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "after_cursor_execute", on_executed)
        event.remove(engine.pool, "checkout", on_checkout)


async def _visit(hospital: Institution, psn_no: str, id_number: str) -> str:
    reg = await hospital.call(
        "2201",
        {
            "data": {
                "psn_no": psn_no,
                "insutype": "310",
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": id_number,
            }
        },
    )
    mdtrt_id: str = reg["output"]["data"]["mdtrt_id"]
    lines = [
        ("1", "XA01ABD075A002010100483", "25.00", "2", "50.00"),
        ("2", "XC09AAD012A001010104291", "80.00", "1", "80.00"),
        ("3", "XN06AXA063A001010101005", "30.00", "1", "30.00"),
    ]
    up = await hospital.call(
        "2204",
        {
            "feedetail": [
                {
                    "feedetl_sn": sn,
                    "mdtrt_id": mdtrt_id,
                    "psn_no": psn_no,
                    "med_list_codg": code,
                    "pric": pric,
                    "cnt": cnt,
                    "det_item_fee_sumamt": total,
                }
                for sn, code, pric, cnt, total in lines
            ]
        },
    )
    assert up["infcode"] == 0, up
    return mdtrt_id


async def test_a_warm_2207_sends_the_fewest_statements(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient, backend: str
) -> None:
    w = await settlement_world.build(runtime, session, client, balance_fen=100000)
    psn_no = w.person.person.psn_no
    id_number = enrolment_repository.decrypt_id_number(runtime.cipher, w.person.person)
    await session.close()
    await w.hospital.sign_in()

    async def settle() -> tuple[dict[str, Any], Statements, dict[str, int]]:
        mdtrt_id = await _visit(w.hospital, psn_no, id_number)
        before = await _rows(runtime)
        bill = {
            "psn_no": psn_no,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": id_number,
            "med_type": "11",
            "medfee_sumamt": "160.00",
            "mdtrt_id": mdtrt_id,
            "insutype": "310",
            "acct_used_flag": "1",
        }
        with counting(runtime) as seen:
            answer = await w.hospital.call("2207", {"data": bill})
        assert answer["infcode"] == 0, answer
        after = await _rows(runtime)
        return answer, seen, {table: after[table] - before[table] for table in ROWS_2207}

    await settle()  # the first one fills this process's reference cache
    answer, seen, written = await settle()
    assert answer["output"]["setlinfo"]["acct_pay"] != "0.00"
    assert seen.checkouts == 1  # gateway, nonce and message share one connection
    # SQLite keeps the nonces in a file of its own beside the database (db/ephemeral.py).
    assert written == {**ROWS_2207, **({} if backend == "postgres" else {"ephemeral_entries": 0})}
    if backend == "postgres":
        assert seen.heads() == POSTGRES_2207, seen.heads()
        assert seen.through_sqlalchemy == 0
        async with runtime.sessions() as db:
            found = await db.execute(
                text(
                    "SELECT tablename, indexname FROM pg_indexes"
                    " WHERE schemaname = current_schema() AND tablename = ANY(:tables)"
                ),
                {"tables": list(INDEXES_2207)},
            )
            indexes: dict[str, set[str]] = {}
            for table, index in found:
                indexes.setdefault(table, set()).add(index)
            unlogged = (
                await db.execute(
                    text(
                        "SELECT relpersistence::text FROM pg_class WHERE relname = 'ephemeral_entries'"
                    )
                )
            ).scalar_one()
        assert indexes == INDEXES_2207, indexes
        assert unlogged == "u"  # the nonces write no WAL
    else:
        # SQLite (in-process, no round trips) keeps the nonce in a file of its own, and writes
        # one statement per table (it has no data-modifying CTEs): BEGIN IMMEDIATE and 12.
        assert len(seen.sent) <= 13, "\n".join(seen.heads())
        assert not any("institutions" in sql or "catalogue_entries" in sql for sql in seen.sent)


async def test_a_cold_process_reads_the_reference_rows_once(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    w = await settlement_world.build(runtime, session, client, balance_fen=100000)
    psn_no = w.person.person.psn_no
    id_number = enrolment_repository.decrypt_id_number(runtime.cipher, w.person.person)
    await session.close()
    await w.hospital.sign_in()
    mdtrt_id = await _visit(w.hospital, psn_no, id_number)
    for namespace in ("institution-gateway", "catalogue-rule", "region-rules"):
        reference_cache(runtime.engine).forget(namespace)
    with counting(runtime) as seen:
        answer = await w.hospital.call(
            "2206",
            {
                "data": {
                    "psn_no": psn_no,
                    "mdtrt_cert_type": "02",
                    "mdtrt_cert_no": id_number,
                    "med_type": "11",
                    "medfee_sumamt": "160.00",
                    "mdtrt_id": mdtrt_id,
                    "insutype": "310",
                    "acct_used_flag": "1",
                }
            },
        )
    assert answer["infcode"] == 0, answer
    heads = seen.heads()
    assert heads.count("SELECT institutions") == 1
    assert heads.count("SELECT regions") == 1
    assert heads.count("SELECT catalogue_entries") == 1
