"""The ledger on real databases: constraints, append-only, freeze, reversal, concurrency."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from tests.support.world import define_regions, enrol, fund
from yibao.kernel.errors import DomainError
from yibao.ledger import repository as ledger
from yibao.ledger import service as ledger_service
from yibao.ledger.domain import AccountFrozen, EntryKind, InsufficientBalance
from yibao.ledger.tables import LedgerEntry
from yibao.runtime import Runtime


async def _person_with(runtime: Runtime, fen: int) -> tuple[int, int]:
    async with runtime.sessions() as s:
        await define_regions(s)
        enrolled = await enrol(runtime, s)
        assert enrolled.account_id is not None
        person_id, account_id = enrolled.person.id, enrolled.account_id
    if fen:
        async with runtime.sessions() as s:
            await fund(s, person_id, fen, f"fund:{person_id}")
    return person_id, account_id


async def _debit(runtime: Runtime, account_id: int, fen: int, key: str) -> None:
    async with runtime.sessions() as s:
        account = await ledger.lock_account(s, account_id)
        await ledger.post(
            s,
            account,
            ledger.Posting(EntryKind.SETTLEMENT_DEBIT, -fen, key, "测试药店"),
            runtime.clock.now(),
        )
        await s.commit()


async def _balance_and_sum(runtime: Runtime, account_id: int) -> tuple[int, int]:
    async with runtime.sessions() as s:
        account = await ledger.lock_account(s, account_id)
        return account.balance_fen, await ledger.sum_of_entries(s, account_id)


async def test_post_debit_and_idempotency(runtime: Runtime) -> None:
    _, account_id = await _person_with(runtime, 10_000)
    await _debit(runtime, account_id, 3_000, "k1")
    await _debit(runtime, account_id, 3_000, "k1")  # a retry: the first entry stands
    assert await _balance_and_sum(runtime, account_id) == (7_000, 7_000)
    with pytest.raises(InsufficientBalance):
        await _debit(runtime, account_id, 7_001, "k2")
    assert await _balance_and_sum(runtime, account_id) == (7_000, 7_000)


async def test_database_refuses_negative_balance_and_edits(runtime: Runtime) -> None:
    _, account_id = await _person_with(runtime, 500)
    async with runtime.sessions() as s:
        with pytest.raises(IntegrityError):
            await s.execute(
                text("UPDATE personal_accounts SET balance_fen = -1 WHERE id = :id"),
                {"id": account_id},
            )
            await s.flush()
    for statement in (
        "UPDATE ledger_entries SET amount_fen = 1 WHERE account_id = :id",
        "DELETE FROM ledger_entries WHERE account_id = :id",
    ):
        async with runtime.sessions() as s:
            with pytest.raises(DBAPIError, match="append-only"):
                await s.execute(text(statement), {"id": account_id})
    assert await _balance_and_sum(runtime, account_id) == (500, 500)


async def test_frozen_account_stops_debits_but_receives(runtime: Runtime) -> None:
    person_id, account_id = await _person_with(runtime, 1_000)
    async with runtime.sessions() as s:
        await ledger_service.freeze_account(s, person_id, "违规使用：冒用他人医保卡", runtime.clock)
    with pytest.raises(AccountFrozen):
        await _debit(runtime, account_id, 100, "frozen-1")
    async with runtime.sessions() as s:
        await fund(s, person_id, 250, "frozen-credit")
    assert await _balance_and_sum(runtime, account_id) == (1_250, 1_250)


async def test_reversal_restores_once(runtime: Runtime) -> None:
    _, account_id = await _person_with(runtime, 1_000)
    await _debit(runtime, account_id, 400, "rev-1")
    async with runtime.sessions() as s:
        entry = await ledger.entry_by_key(s, "rev-1")
        assert entry is not None
        entry_id = entry.id
    for _ in range(2):
        async with runtime.sessions() as s:
            await ledger_service.reverse_entry(s, entry_id, "收费错误，冲正", runtime.clock)
    assert await _balance_and_sum(runtime, account_id) == (1_000, 1_000)


async def test_database_refuses_a_second_reversal_of_one_entry(runtime: Runtime) -> None:
    """The partial unique index (0007) holds what the use case's look-up checks first."""
    _, account_id = await _person_with(runtime, 1_000)
    await _debit(runtime, account_id, 400, "rev-twice")
    async with runtime.sessions() as s:
        entry = await ledger.entry_by_key(s, "rev-twice")
        assert entry is not None
        await ledger_service.reverse_entry(s, entry.id, "收费错误，冲正", runtime.clock)
    async with runtime.sessions() as s:
        with pytest.raises(IntegrityError):
            await s.execute(
                text(
                    "INSERT INTO ledger_entries (account_id, kind, amount_fen, balance_after_fen,"
                    " idempotency_key, counterparty, reverses_entry_id, created_at)"
                    " VALUES (:account, 'reversal', 400, 1400, 'rev-twice-again', 'x', :entry,"
                    " :now)"
                ),
                {"account": account_id, "entry": entry.id, "now": runtime.clock.now()},
            )
    assert await _balance_and_sum(runtime, account_id) == (1_000, 1_000)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    ops=st.lists(
        st.tuples(st.sampled_from(["credit", "debit", "reverse", "freeze"]), st.integers(1, 5_000)),
        max_size=15,
    )
)
async def test_interleavings_on_the_database(runtime: Runtime, ops: list[tuple[str, int]]) -> None:
    """Each use of the ledger against a model kept in integer fen: it refuses exactly when the
    model says the account is frozen (debits) or the balance would go below zero, and the rows
    written (kind, amount, balance after) are the model's, in order."""
    _, account_id = await _person_with(runtime, 0)
    # The model: entries (key, kind, amount, balance after), the reversed keys, the balance.
    model: list[tuple[str, str, int, int]] = []
    reversed_keys: set[str] = set()
    balance = 0
    frozen = False
    for n, (op, amount) in enumerate(ops):
        key = f"{account_id}:{n}"
        expected: type[DomainError] | None = None
        written: tuple[str, str, int, int] | None = None
        if op == "credit":
            written = (key, "contribution_credit", amount, balance + amount)
        elif op == "debit":
            if frozen:
                expected = AccountFrozen
            elif balance < amount:
                expected = InsufficientBalance
            else:
                written = (key, "settlement_debit", -amount, balance - amount)
        elif op == "reverse":
            candidates = [e for e in model if e[1] != "reversal"]
            if not candidates:
                continue
            target_key, _, target_amount, _ = candidates[amount % len(candidates)]
            if target_key in reversed_keys:
                pass  # a second reversal returns the first and writes nothing
            elif balance - target_amount < 0:
                expected = InsufficientBalance
            else:
                written = (f"r{key}", "reversal", -target_amount, balance - target_amount)
        refused: type[DomainError] | None = None
        try:
            async with runtime.sessions() as s:
                account = await ledger.lock_account(s, account_id)
                if op == "credit":
                    await ledger.post(
                        s,
                        account,
                        ledger.Posting(EntryKind.CONTRIBUTION_CREDIT, amount, key, "划入"),
                        runtime.clock.now(),
                    )
                elif op == "debit":
                    await ledger.post(
                        s,
                        account,
                        ledger.Posting(EntryKind.SETTLEMENT_DEBIT, -amount, key, "消费"),
                        runtime.clock.now(),
                    )
                elif op == "reverse":
                    target = await ledger.entry_by_key(s, target_key)
                    assert target is not None
                    await ledger.reverse(
                        s,
                        account,
                        target,
                        idempotency_key=f"r{key}",
                        reason="冲正",
                        now=runtime.clock.now(),
                    )
                else:
                    await ledger.freeze(s, account, "违规使用", runtime.clock.now())
                await s.commit()
        except DomainError as exc:
            refused = type(exc)
        assert refused == expected, (op, amount, balance, frozen)
        if written is not None:
            model.append(written)
            balance = written[3]
            if op == "reverse":
                reversed_keys.add(target_key)
        if op == "freeze":
            frozen = True
        assert await _balance_and_sum(runtime, account_id) == (balance, balance)
    async with runtime.sessions() as s:
        rows = (
            await s.execute(
                select(
                    LedgerEntry.idempotency_key,
                    LedgerEntry.kind,
                    LedgerEntry.amount_fen,
                    LedgerEntry.balance_after_fen,
                )
                .where(LedgerEntry.account_id == account_id)
                .order_by(LedgerEntry.id)
            )
        ).all()
    assert [tuple(r) for r in rows] == model


async def test_concurrent_debits_lose_nothing(runtime: Runtime, backend: str) -> None:
    if backend != "postgres":
        pytest.skip("many connections at once: the PostgreSQL case")
    _, account_id = await _person_with(runtime, 10_000)
    outcomes = await asyncio.gather(
        *(_debit(runtime, account_id, 300, f"c{i}") for i in range(60)), return_exceptions=True
    )
    paid = sum(1 for o in outcomes if o is None)
    refused = [o for o in outcomes if isinstance(o, InsufficientBalance)]
    assert paid == 33 and len(refused) == 27
    assert await _balance_and_sum(runtime, account_id) == (10_000 - 33 * 300, 10_000 - 33 * 300)
