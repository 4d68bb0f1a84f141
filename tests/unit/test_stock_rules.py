"""进销存 rules: exact quantities, and stock never below zero without a recorded reason."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibao.kernel.errors import InvalidInput
from yibao.stock.domain import (
    CHANGE_TYPES,
    NegativeStock,
    balance_after,
    delta_of,
    shown,
    to_units,
)

KINDS = ["inventory", "change", "purchase", "purchase_return", "sale", "sale_return"]

movements = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.integers(min_value=0, max_value=10**9),  # units: up to 100,000 of the item
        st.sampled_from(sorted(CHANGE_TYPES)),
        st.one_of(st.none(), st.just(""), st.just("先销售后补录采购")),
    ),
    max_size=60,
)


@given(movements)
def test_stock_never_goes_negative_without_a_recorded_reason(
    sequence: list[tuple[str, int, str, str | None]],
) -> None:
    """Whatever arrives in whatever order: each accepted movement leaves stock ≥ 0 or names
    its reason; a refused one changes nothing."""
    stock = 0
    for kind, quantity, change_type, reason in sequence:
        delta = delta_of(kind, quantity, stock, change_type)
        try:
            after = balance_after(stock, delta, reason, where="input.selinfo")
        except NegativeStock as refused:
            assert stock + delta < 0 and not (reason and reason.strip())
            assert "neg_inv_rea" in refused.message
            continue
        assert after == stock + delta
        assert after >= 0 or (reason is not None and reason.strip())
        if kind == "inventory":
            assert after == quantity
        stock = after


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_a_quantity_is_shown_exactly_and_read_back(units: int) -> None:
    assert to_units(Decimal(shown(units)), where="cnt") == units


def test_quantities_are_exact_integers_never_floats() -> None:
    assert to_units(Decimal("12.5"), where="cnt") == 125000
    assert to_units(Decimal("0.0001"), where="cnt") == 1
    assert shown(125000) == "12.5" and shown(0) == "0" and shown(-30000) == "-3"
    with pytest.raises(InvalidInput, match="最多4位小数"):
        to_units(Decimal("0.00001"), where="cnt")


def test_each_change_type_has_a_direction() -> None:
    assert {sign for _, sign in CHANGE_TYPES.values()} == {1, -1}
    assert delta_of("change", 10000, 0, "104") == -10000  # 盘损 takes
    assert delta_of("change", 10000, 0, "103") == 10000  # 盘盈 adds
