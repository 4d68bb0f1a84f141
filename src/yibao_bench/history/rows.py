"""The rows each month's steps append: ledger entries of a credit and a debit, the settlement id,
yearly accumulations; and the fund's rounding, vectorised."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from yibao_bench import copybin as cb
from yibao_bench.history.people import Vocab
from yibao_bench.shape import Chunk, Ints


def apply_rate(amount: Ints, bp: Ints | int) -> Ints:
    """amount × bp / 10000, rounded half up (kernel.money.apply_rate_bp, vectorised)."""
    return np.asarray((amount * bp + 5_000) // 10_000, dtype=np.int64)


def previous_month(first: date) -> date:
    return (first - timedelta(days=1)).replace(day=1)


def setl_id(first: date, day: Ints, secs: Ints, settlement_id: Ints) -> list[cb.Segment]:
    """yyyyMMdd HHmmss (Beijing time) and 8 digits: the settlement feature's id shape."""
    n = day.shape[0]
    return [
        cb.constant(f"{first.year:04d}{first.month:02d}", n),
        cb.digits(day, 2),
        cb.digits(secs // 3600 * 10_000 + secs // 60 % 60 * 100 + secs % 60, 6),
        cb.digits(settlement_id % 10**8, 8),
    ]


def add_credit(
    chunk: Chunk,
    vocab: Vocab,
    n: int,
    entry_id: Ints,
    person_id: Ints,
    amount: Ints,
    balance: Ints,
    month: str,
    retired: npt.NDArray[np.bool_],
    when: Ints,
) -> None:
    width = len(str(int(person_id.max())))
    chunk.add(
        "ledger_entries",
        [
            cb.int8(entry_id),
            cb.int8(person_id),
            cb.text(cb.constant("contribution_credit", n)),
            cb.int8(amount),
            cb.int8(balance),
            cb.text(
                cb.constant("contribution:", n),
                cb.digits(person_id, width, pad=False),
                cb.constant(f":{month}", n),
            ),
            cb.text(vocab.counterparty.pick(retired.astype(np.int64))),
            cb.text(cb.constant("", n), null=np.ones(n, dtype=np.bool_)),
            cb.text(cb.constant("contribution", n)),
            cb.text(cb.constant(month, n)),
            cb.timestamptz(when),
        ],
        n,
    )


def add_debit(
    chunk: Chunk,
    vocab: Vocab,
    n: int,
    entry_id: Ints,
    person_id: Ints,
    acct_pay: Ints,
    balance: Ints,
    setl: list[cb.Segment],
    inst: Ints,
    when: Ints,
) -> None:
    chunk.add(
        "ledger_entries",
        [
            cb.int8(entry_id),
            cb.int8(person_id),
            cb.text(cb.constant("settlement_debit", n)),
            cb.int8(-acct_pay),
            cb.int8(balance),
            cb.text(cb.constant("setl:S", n), *setl, cb.constant(":own", n)),
            cb.text(vocab.inst_name.pick(inst)),
            cb.text(vocab.inst_code.pick(inst)),
            cb.text(cb.constant("settlement", n)),
            cb.text(cb.constant("S", n), *setl),
            cb.timestamptz(when),
        ],
        n,
    )


def add_accumulations(chunk: Chunk, person_id: Ints, year: int, used: Ints, fund: Ints) -> None:
    n = person_id.shape[0]
    chunk.add(
        "yearly_accumulations",
        [cb.int8(person_id), cb.int4(np.full(n, year)), cb.int8(used), cb.int8(fund)],
        n,
    )
