"""The acceptance suite and the transaction table agree: every must-pass transaction yibao
answers has a step, and no step runs a transaction yibao does not answer."""

from __future__ import annotations

import pytest

from yibao.cli.selftest import must_pass, steps_of
from yibao.cli.selftest.registry import STEPS, TIERS, Tier
from yibao.fsi.transactions import TRANSACTIONS

KIND: dict[Tier, str] = {"pharmacy": "P", "clinic": "H"}


@pytest.mark.parametrize("tier", TIERS)
def test_every_answered_must_pass_transaction_has_a_step(tier: Tier) -> None:
    listed = {t.infno for t in must_pass(tier)}
    answered = {
        infno for infno, row in TRANSACTIONS.items() if KIND[tier] in row.kinds and infno in listed
    }
    assert answered - {s.infno for s in steps_of(tier)} == set()


def test_every_step_runs_a_transaction_yibao_answers() -> None:
    for step in STEPS:
        row = TRANSACTIONS.get(step.infno)
        assert row is not None, step.infno
        for tier in step.tiers:
            assert KIND[tier] in row.kinds, (step.infno, tier)
            assert step.name == row.name, step.infno


def test_steps_run_in_an_institution_s_order() -> None:
    for tier in TIERS:
        orders = [s.order for s in steps_of(tier)]
        assert len(set(orders)) == len(orders), "two steps of a tier share an order"
        assert steps_of(tier)[0].infno == "9001"
