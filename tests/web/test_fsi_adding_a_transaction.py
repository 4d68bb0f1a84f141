"""Adding a transaction is one row of the table, one handler that calls one use case, and tests.

The rows below are added to a copy of the real table and routed through the real dispatch; the
handler is written here, as it would be in its own module under fsi/handlers/. Nothing else is
touched, and the row gets the gateway, the sign-in rule, one transaction per message, msgid
idempotency, -1 for a crash and 2601 from its columns. And below `fsi/`, no service knows an
interface code: the reversal of a transaction is found through the table alone.
"""

from __future__ import annotations

import ast
import csv
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import Headers

from tests.support import settlement_world
from yibao.fsi.call import Call, Original, Reply, Reversed
from yibao.fsi.errors import INTERNAL_ERROR
from yibao.fsi.router import dispatch
from yibao.fsi.transactions import TRANSACTIONS, Transaction
from yibao.runtime import Runtime
from yibao.settlement import service
from yibao.settlement.tables import Institution, InterfaceMessage

SRC = Path(__file__).resolve().parents[2] / "src" / "yibao"
# Business codes that happen to share a transaction's digits: psn_type 1101 (在职职工).
SAME_DIGITS = {"enrolment/service.py": {"1101"}}


async def sign_in_again(call: Call) -> Reply:
    """A made-up transaction: the day's sign_no through the 9001 use case, under another code."""
    sign_no = await service.sign_in(call.session, call.caller, call.runtime.clock)
    return Reply({"data": {"sign_no": sign_no, "note": call.data().text("note")}})


async def crash_after_writing(call: Call) -> Reply:
    await service.sign_in(call.session, call.caller, call.runtime.clock)
    raise RuntimeError("a bug in a handler, after it wrote")


async def undo(call: Call, original: Original) -> Reversed:
    return Reversed("undone")


@pytest.fixture
async def world(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> settlement_world.World:
    w = await settlement_world.build(runtime, session, client)
    await session.close()
    return w


async def _send(
    runtime: Runtime,
    w: settlement_world.World,
    table: dict[str, Transaction],
    infno: str,
    payload: dict[str, Any],
    msgid: str | None = None,
) -> dict[str, Any]:
    body = json.dumps(w.hospital.envelope(infno, payload, msgid), ensure_ascii=False).encode()
    return await dispatch(runtime, body, Headers(w.hospital.headers()), None, table)


async def _sign_no(runtime: Runtime, code: str) -> str | None:
    async with runtime.sessions() as s:
        return await s.scalar(select(Institution.sign_no).where(Institution.fixmedins_code == code))


async def test_a_row_and_a_handler_are_a_transaction(
    runtime: Runtime, world: settlement_world.World
) -> None:
    table = {
        **TRANSACTIONS,
        "1399B": Transaction("再签到", sign_in_again, sign_in="optional", reverse=undo),
        "1399C": Transaction("写后崩溃", crash_after_writing, sign_in="optional"),
    }
    code = world.hospital.code
    assert "1399B" not in TRANSACTIONS  # the real table is untouched

    # A crash inside the handler, after it wrote: -1, and nothing it wrote is kept.
    crashed = await _send(runtime, world, table, "1399C", {"data": {}})
    assert crashed["infcode"] == -1 and crashed["err_msg"] == INTERNAL_ERROR
    assert await _sign_no(runtime, code) is None

    # Bad input: the err_msg names the field.
    refused = await _send(runtime, world, table, "1399B", {"data": {}})
    assert refused["infcode"] == -1 and "input.data.note" in refused["err_msg"]

    # The row's handler runs, and its write commits with the stored answer.
    msgid = world.hospital.new_msgid()
    first = await _send(runtime, world, table, "1399B", {"data": {"note": "早班"}}, msgid)
    assert first["infcode"] == 0, first
    sign_no = first["output"]["data"]["sign_no"]
    assert await _sign_no(runtime, code) == sign_no
    async with runtime.sessions() as s:
        stored = await s.get(InterfaceMessage, msgid)
        assert stored is not None and json.loads(stored.answer) == first
    # Once per msgid: the same message again gets the first answer.
    again = await _send(runtime, world, table, "1399B", {"data": {"note": "早班"}}, msgid)
    assert again == first

    # 2601 finds how to undo it in the same table.
    world.hospital.sign_no = sign_no
    psn_no = world.person.person.psn_no
    undo_it = {"data": {"psn_no": psn_no, "omsgid": msgid, "oinfno": "1399B"}}
    reversed_ = await _send(runtime, world, table, "2601", undo_it)
    assert reversed_["output"]["data"]["rever_result"] == "undone", reversed_
    refuse_it = {"data": {"psn_no": psn_no, "omsgid": msgid, "oinfno": "1399C"}}
    refusal = await _send(runtime, world, table, "2601", refuse_it)
    assert refusal["err_msg"] == "交易 1399C（写后崩溃）不能冲正"
    async with runtime.sessions() as s:  # 1399B once, the 2601 once; no failure stored
        assert await s.scalar(select(func.count()).select_from(InterfaceMessage)) == 2


def _codes() -> set[str]:
    listed = SRC / "cli" / "selftest" / "acceptance-list.tsv"
    rows = csv.DictReader(listed.read_text("utf-8").splitlines(), delimiter="\t")
    return {row["infno"] for row in rows} | set(TRANSACTIONS)


def _service_modules() -> list[Path]:
    return sorted(
        path
        for path in SRC.rglob("*.py")
        if "service" in path.relative_to(SRC).parts[1:2]
        or path.relative_to(SRC).parts[1:2] == ("service.py",)
    )


def test_no_service_names_an_interface_code() -> None:
    """No use case branches on which transaction called it (`SETTLE_INFNOS`, `oinfno`): a code
    as a value, or a name about codes, is the interface's business, not a service's (storing the
    msgid's `infno` with its answer is not a branch)."""
    codes = _codes()
    modules = _service_modules()
    assert len(modules) > 20, modules
    found = []
    for path in modules:
        allowed = SAME_DIGITS.get(str(path.relative_to(SRC)), set())
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Constant) and node.value in codes - allowed:
                found.append(f"{path.relative_to(SRC)}:{node.lineno} {node.value!r}")
            named = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
            if isinstance(named, str) and "infno" in named.lower() and named != "infno":
                found.append(f"{path.relative_to(SRC)}:{getattr(node, 'lineno', 0)} {named}")
    assert not found, found
