"""The suite's steps, one module per group of transactions; importing this registers them all.

A new module of steps is added to the import below (and nothing else)."""

from yibao.cli.selftest.steps import (
    counter,
    outpatient,
    pharmacy,
    records,
    reference,
    session,
    vouchers,
)

__all__ = ["counter", "outpatient", "pharmacy", "records", "reference", "session", "vouchers"]
