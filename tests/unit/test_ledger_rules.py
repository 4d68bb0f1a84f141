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
def test_any_interleaving_refuses_exactly_what_the_model_refuses(
    ops: list[tuple[str, object]],
) -> None:
    """The rules against a model written from the regulation's words, in integer fen: a debit
    is refused when the account is frozen, else when the balance would go below zero; a credit
    always arrives; a reversal gives back what its entry moved (frozen or not), may not take the
    balance below zero, and a reversal is never reversed."""
    entries: list[tuple[EntryKind, int]] = []  # what the rules accepted
    reversed_: set[int] = set()
    balance = 0
    status = "active"
    model_entries: list[tuple[EntryKind, int]] = []  # what the model accepted
    model_balance = 0
    for op, arg in ops:
        assert isinstance(arg, int)
        expected: type[DomainError] | None = None
        refused: type[DomainError] | None = None
        try:
            if op == "credit":
                model_entries.append((EntryKind.CONTRIBUTION_CREDIT, arg))
                model_balance += arg
                balance = next_balance(balance, EntryKind.CONTRIBUTION_CREDIT, arg, status)
                entries.append((EntryKind.CONTRIBUTION_CREDIT, arg))
            elif op == "debit":
                if status == "frozen":
                    expected = AccountFrozen
                elif model_balance < arg:
                    expected = InsufficientBalance
                else:
                    model_entries.append((EntryKind.SETTLEMENT_DEBIT, -arg))
                    model_balance -= arg
                balance = next_balance(balance, EntryKind.SETTLEMENT_DEBIT, -arg, status)
                entries.append((EntryKind.SETTLEMENT_DEBIT, -arg))
            elif op == "reverse":
                if not entries or arg % len(entries) in reversed_:
                    continue
                index = arg % len(entries)
                kind, amount = entries[index]
                if kind == EntryKind.REVERSAL:
                    expected = InvalidEntry
                elif model_balance - amount < 0:
                    expected = InsufficientBalance
                else:
                    model_entries.append((EntryKind.REVERSAL, -amount))
                    model_balance -= amount
                undo = reversal_amount(kind, amount)
                balance = next_balance(balance, EntryKind.REVERSAL, undo, status)
                entries.append((EntryKind.REVERSAL, undo))
                reversed_.add(index)
            else:
                status = "frozen" if arg else "active"
        except DomainError as exc:
            refused = type(exc)
        assert refused == expected, (op, arg, balance, status)
        assert entries == model_entries
        assert balance == model_balance == sum(amount for _, amount in entries) >= 0
