"""One connection and one transaction per message, and what it must not cost in correctness.

Institutions are cached per process (db/reference.py): a change made by another process (a
9001 sign-in answered there, a rotated token) is read again before a message is refused; the
nonce is written in the message's own transaction, yet stays spent when the message succeeded
or failed; a connection the server dropped is retried once.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import settlement_world
from tests.support.connections import end_every_connection
from yibao.db.reference import ReferenceCache
from yibao.enrolment import repository as enrolment_repository
from yibao.kernel.clock import china_today
from yibao.ledger.tables import LedgerEntry
from yibao.runtime import Runtime
from yibao.settlement import repository
from yibao.settlement.service import messages
from yibao.settlement.service.institutions import TOKEN_PURPOSE
from yibao.settlement.tables import Institution, InterfaceMessage, Settlement


def test_reference_cache_expires_and_forgets() -> None:
    now = [100.0]
    cache = ReferenceCache(ttl=5, clock=lambda: now[0])
    cache.put("region-rules", "440300", "rules")
    cache.put("catalogue-rule", ("X", 1), None)
    assert cache.get("region-rules", "440300") == (True, "rules")
    assert cache.get("catalogue-rule", ("X", 1)) == (True, None)  # a known absence
    cache.forget("region-rules", "440300")
    assert cache.get("region-rules", "440300") == (False, None)
    now[0] += 5
    assert cache.get("catalogue-rule", ("X", 1)) == (False, None)
    off = ReferenceCache(ttl=0)
    off.put("region-rules", "440300", "rules")
    assert off.get("region-rules", "440300") == (False, None)


async def _world(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> tuple[settlement_world.World, str]:
    w = await settlement_world.build(runtime, session, client)
    id_number = enrolment_repository.decrypt_id_number(runtime.cipher, w.person.person)
    await session.close()
    await w.hospital.sign_in()
    return w, id_number


def _lookup(id_number: str) -> dict[str, Any]:
    return {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": id_number}}


async def test_a_sign_in_answered_by_another_process_is_honoured(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    w, id_number = await _world(runtime, session, client)
    assert (await w.hospital.call("1101", _lookup(id_number)))["infcode"] == 0  # cached now
    async with runtime.sessions() as other:  # as another server process would, past this cache
        await other.execute(
            update(Institution)
            .where(Institution.fixmedins_code == w.hospital.code)
            .values(sign_no="20990101000000000001", sign_day=china_today(runtime.clock))
        )
        await other.commit()
    # 2601 needs the day's sign_no (1101 does not); this one finds nothing to undo.
    omsgid = w.hospital.new_msgid()
    undo = {"data": {"psn_no": w.person.person.psn_no, "omsgid": omsgid, "oinfno": "2207"}}
    w.hospital.sign_no = "20990101000000000001"
    answer = await w.hospital.call("2601", undo)
    assert answer["infcode"] == 0, answer
    w.hospital.sign_no = "20990101000000000002"
    answer = await w.hospital.call("2601", undo)
    assert answer["infcode"] == -1
    assert "sign_no 无效或已过期" in answer["err_msg"]


async def test_a_token_rotated_by_another_process_is_honoured(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    w, id_number = await _world(runtime, session, client)
    assert (await w.hospital.call("1101", _lookup(id_number)))["infcode"] == 0
    old = w.hospital.token
    async with runtime.sessions() as other:
        await other.execute(
            update(Institution)
            .where(Institution.fixmedins_code == w.hospital.code)
            .values(token_enc=runtime.cipher.encrypt("f" * 32, purpose=TOKEN_PURPOSE))
        )
        await other.commit()
    w.hospital.token = "f" * 32
    assert (await w.hospital.call("1101", _lookup(id_number)))["infcode"] == 0
    w.hospital.token = old
    answer = await w.hospital.call("1101", _lookup(id_number))
    assert answer["infcode"] == -1
    assert "x-tif-signature 签名不正确" in answer["err_msg"]


async def test_the_nonce_of_an_answered_message_is_spent(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    w, id_number = await _world(runtime, session, client)
    headers = w.hospital.headers()
    first = await w.hospital.call("1101", _lookup(id_number), headers=headers)
    assert first["infcode"] == 0
    async with runtime.sessions() as s:
        before = await s.scalar(select(func.count()).select_from(InterfaceMessage))
    again = await w.hospital.call("1101", _lookup(id_number), headers=headers)
    assert again["infcode"] == -1
    assert "x-tif-nonce 已使用过" in again["err_msg"]
    async with runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(InterfaceMessage)) == before


async def test_a_dropped_connection_is_retried_once(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient, backend: str
) -> None:
    if backend != "postgres":
        pytest.skip("the PostgreSQL server drops connections; SQLite has none to drop")
    w, id_number = await _world(runtime, session, client)
    assert (await w.hospital.call("1101", _lookup(id_number)))["infcode"] == 0
    # The server ends every connection of the pool, as a restart would.
    assert await end_every_connection(runtime.settings.effective_database_url)
    answer = await w.hospital.call("1101", _lookup(id_number))
    assert answer["infcode"] == 0, answer
    assert answer["output"]["baseinfo"]["psn_no"] == w.person.person.psn_no
    async with runtime.sessions() as s:  # and a settlement's transaction still holds together
        assert await s.scalar(select(func.count()).select_from(Settlement)) == 0
        assert await s.scalar(select(func.count()).select_from(LedgerEntry)) == 1


async def test_a_commit_whose_answer_was_lost_is_answered_from_the_stored_copy(
    runtime: Runtime,
    session: AsyncSession,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The commit lands, then the connection drops before the answer reaches the server: its
    retry finds its own nonce spent (it committed with the message) and must answer with the
    stored copy, not refuse the nonce (an institution told -1 would send the sale again)."""
    w, id_number = await _world(runtime, session, client)
    real = messages.commit_answer
    first: list[Any] = []

    async def commit_then_lose_the_connection(
        session: Any, incoming: Any, answer: dict[str, Any]
    ) -> None:
        await real(session, incoming, answer)
        if not first:
            first.append(answer)
            raise DBAPIError("COMMIT", None, ConnectionError("gone"), connection_invalidated=True)

    monkeypatch.setattr(messages, "commit_answer", commit_then_lose_the_connection)
    answer = await w.hospital.call("1101", _lookup(id_number))
    assert answer["infcode"] == 0, answer
    assert first and answer == first[0]
    async with runtime.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(InterfaceMessage)) == 2  # + 9001


async def test_a_2207_that_fails_after_its_writes_leaves_nothing(
    runtime: Runtime,
    session: AsyncSession,
    client: httpx.AsyncClient,
    backend: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The settlement's writes go to the driver directly (db/direct/); they must still roll
    back with the message, not commit on their own."""
    w, id_number = await _world(runtime, session, client)
    psn_no, person_id = w.person.person.psn_no, w.person.person.id
    reg = await w.hospital.call(
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
    mdtrt_id = reg["output"]["data"]["mdtrt_id"]
    line = {
        "feedetl_sn": "1",
        "mdtrt_id": mdtrt_id,
        "psn_no": psn_no,
        "med_list_codg": "XA01ABD075A002010100483",
        "pric": "25.00",
        "cnt": "2",
        "det_item_fee_sumamt": "50.00",
    }
    assert (await w.hospital.call("2204", {"feedetail": [line]}))["infcode"] == 0

    async def tables() -> dict[str, Any]:
        async with runtime.sessions() as s:
            counts: dict[str, Any] = {
                table: await s.scalar(text(f"SELECT count(*) FROM {table}"))
                for table in (
                    "settlements",
                    "settlement_items",
                    "ledger_entries",
                    "outbox_messages",
                    "fsi_messages",
                    "yearly_accumulations",
                )
            }
            counts["balance"] = await s.scalar(
                text("SELECT balance_fen FROM personal_accounts WHERE person_id = :p"),
                {"p": person_id},
            )
            counts["visit"] = await s.scalar(
                text("SELECT status FROM visits WHERE mdtrt_id = :m"), {"m": mdtrt_id}
            )
            return counts

    before = await tables()
    stored = repository.store_answer
    written: list[str] = []

    async def fails_after_the_writes(session: AsyncSession, **kwargs: Any) -> None:
        # The settlement, its items, the ledger entry, the balance, the visit, the year and the
        # notices are written by now, and so is the answer: then the message fails.
        await stored(session, **kwargs)
        if backend == "postgres":  # not committed on its own: another connection sees none of it
            async with runtime.sessions() as other:
                assert await other.scalar(text("SELECT count(*) FROM settlements")) == 0
        written.append(kwargs["msgid"])
        raise RuntimeError("the message fails after its writes")

    monkeypatch.setattr(repository, "store_answer", fails_after_the_writes)
    bill = {
        "data": {
            "psn_no": psn_no,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": id_number,
            "med_type": "11",
            "medfee_sumamt": "50.00",
            "mdtrt_id": mdtrt_id,
            "insutype": "310",
            "acct_used_flag": "1",
        }
    }
    msgid = w.hospital.new_msgid()
    failed = await w.hospital.call("2207", bill, msgid=msgid)
    assert written == [msgid]
    assert failed["infcode"] == -1, failed
    assert await tables() == before
    assert before["visit"] == "open" and before["settlements"] == 0

    monkeypatch.setattr(repository, "store_answer", stored)
    settled = await w.hospital.call("2207", bill, msgid=msgid)  # its retry settles once
    assert settled["infcode"] == 0, settled
    after = await tables()
    assert (after["settlements"], after["visit"]) == (1, "settled")
    assert after["balance"] == before["balance"] - int(
        Decimal(settled["output"]["setlinfo"]["acct_pay"]) * 100
    )
