"""The suite's steps, one module per group of transactions; importing this registers them all.

A new module of steps is added to the import below (and nothing else)."""

from yibao.cli.selftest.steps import (
    auditing,
    counter,
    outpatient,
    pharmacy,
    reconciliation,
    records,
    reference,
    session,
    stock,
    vouchers,
)

__all__ = [
    "auditing",
    "counter",
    "outpatient",
    "pharmacy",
    "reconciliation",
    "records",
    "reference",
    "session",
    "stock",
    "vouchers",
]
