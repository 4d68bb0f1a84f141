"""The ledger's rules on a pure model: any interleaving keeps balance = sum(entries) >= 0."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibao.kernel.errors import DomainError
from yibao.ledger.domain import (
    AccountFrozen,
    EntryKind,
    InsufficientBalance,
    InvalidEntry,
    next_balance,
    reversal_amount,
)


def test_debit_beyond_balance_is_refused() -> None:
    with pytest.raises(InsufficientBalance):
        next_balance(100, EntryKind.SETTLEMENT_DEBIT, -101, "active")


def test_frozen_account_pays_nothing_but_receives() -> None:
    with pytest.raises(AccountFrozen):
        next_balance(1000, EntryKind.SETTLEMENT_DEBIT, -1, "frozen")
    assert next_balance(1000, EntryKind.CONTRIBUTION_CREDIT, 5, "frozen") == 1005


def test_signs_follow_kinds() -> None:
    with pytest.raises(InvalidEntry):
        next_balance(0, EntryKind.CONTRIBUTION_CREDIT, -1, "active")
    with pytest.raises(InvalidEntry):
        next_balance(10, EntryKind.SETTLEMENT_DEBIT, 1, "active")
    with pytest.raises(InvalidEntry):
        next_balance(10, EntryKind.STAFF_ADJUSTMENT, 0, "active")


def test_reversal_of_reversal_is_refused() -> None:
    with pytest.raises(InvalidEntry):
        reversal_amount(EntryKind.REVERSAL, 10)


operation = st.one_of(
    st.tuples(st.just("credit"), st.integers(1, 10_000)),
    st.tuples(st.just("debit"), st.integers(1, 10_000)),
    st.tuples(st.just("reverse"), st.integers(0, 50)),
    st.tuples(st.just("freeze"), st.booleans()),
)


@given(st.lists(operation, max_size=60))
def test_any_interleaving_keeps_balance_equal_to_sum(ops: list[tuple[str, object]]) -> None:
    entries: list[tuple[EntryKind, int]] = []
    reversed_: set[int] = set()
    balance = 0
    status = "active"
    for op, arg in ops:
        try:
            if op == "credit":
                assert isinstance(arg, int)
                balance = next_balance(balance, EntryKind.CONTRIBUTION_CREDIT, arg, status)
                entries.append((EntryKind.CONTRIBUTION_CREDIT, arg))
            elif op == "debit":
                assert isinstance(arg, int)
                balance = next_balance(balance, EntryKind.SETTLEMENT_DEBIT, -arg, status)
                entries.append((EntryKind.SETTLEMENT_DEBIT, -arg))
            elif op == "reverse":
                assert isinstance(arg, int)
                if not entries or arg % len(entries) in reversed_:
                    continue
                index = arg % len(entries)
                kind, amount = entries[index]
                undo = reversal_amount(kind, amount)
                balance = next_balance(balance, EntryKind.REVERSAL, undo, status)
                entries.append((EntryKind.REVERSAL, undo))
                reversed_.add(index)
            else:
                status = "frozen" if arg else "active"
        except DomainError:
            pass
        assert balance == sum(amount for _, amount in entries)
        assert balance >= 0
