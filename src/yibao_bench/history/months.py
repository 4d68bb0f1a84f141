"""`generate`: a chunk's rows, month by month. Per calendar month, vectorised over the chunk's
persons, the previous month's contribution is credited, then one or two bills are settled."""

from __future__ import annotations

import numpy as np

from yibao.kernel.pii import PersonalDataCipher
from yibao_bench import copybin as cb
from yibao_bench.history.people import Encrypt, Vocab, add_people
from yibao_bench.history.rows import (
    add_accumulations,
    add_credit,
    add_debit,
    apply_rate,
    previous_month,
    setl_id,
)
from yibao_bench.shape import Chunk, World, micros, month_start, month_text


def generate(
    world: World,
    cipher: PersonalDataCipher,
    start: int,
    stop: int,
    encrypt: Encrypt | None = None,
) -> Chunk:
    """Rows of persons [start, stop) for every table."""
    n = stop - start
    rng = np.random.default_rng([world.seed, start])
    vocab = Vocab(world)
    chunk = Chunk()
    index = np.arange(start, stop, dtype=np.int64)
    person_id = index + 1
    region = index % len(world.regions)
    regions = world.regions
    people = add_people(chunk, world, vocab, rng, cipher, encrypt, index, region)
    psn_no, retired, created = people.psn_no, people.retired, people.created

    # -- the history, one calendar month at a time ------------------------------------------
    base_fen = rng.integers(50, 300, n) * 10_000
    rate = np.array([r.credit_rate_bp for r in regions])[region]
    credit = np.where(
        retired,
        np.array([r.retiree_credit_fen for r in regions])[region],
        apply_rate(base_fen, rate),
    )
    deductible = np.array([r.deductible_fen for r in regions])[region]
    ratio = np.where(
        retired,
        np.array([r.retiree_fund_ratio_bp for r in regions])[region],
        np.array([r.fund_ratio_bp for r in regions])[region],
    )
    class_b = np.array([r.class_b_selfpay_bp for r in regions])[region]
    hospital = np.empty(n, dtype=np.int64)
    pharmacy = np.empty(n, dtype=np.int64)
    for r, shape in enumerate(regions):
        mine = region == r
        hospital[mine] = np.array(shape.hospitals)[
            rng.integers(0, len(shape.hospitals), mine.sum())
        ]
        pharmacy[mine] = np.array(shape.pharmacies)[
            rng.integers(0, len(shape.pharmacies), mine.sum())
        ]
    levels = np.array([int(i.level) for i in world.items])
    pools = [np.flatnonzero(levels == lv) for lv in (1, 2, 3)]
    prices = np.array([i.price_fen for i in world.items], dtype=np.int64)
    item_bp = np.array(
        [-1 if i.selfpay_bp is None else i.selfpay_bp for i in world.items], dtype=np.int64
    )

    per_entry = world.entries_per_person
    per_setl = world.settlements_per_person
    per_item = world.item_rows_per_person
    entry_base = start * per_entry
    contribution_base = start * world.months
    settlement_base = start * per_setl
    item_base = start * per_item
    balance = np.zeros(n, dtype=np.int64)
    year_used = np.zeros(n, dtype=np.int64)
    year_fund = np.zeros(n, dtype=np.int64)
    year = month_start(world, 0).year
    slot = 0
    settled = 0
    item_slot = 0
    updated = np.full(n, created)
    for c in range(world.months):
        first = month_start(world, c)
        if first.year != year:
            add_accumulations(chunk, person_id, year, year_used, year_fund)
            year_used[:] = 0
            year_fund[:] = 0
            year = first.year
        base = micros(first)
        # The contribution of the month before arrives between the 3rd and the 9th.
        day = rng.integers(3, 10, n)
        secs = rng.integers(8 * 3600, 20 * 3600, n)
        when = base + (day - 1) * 86_400_000_000 + secs * 1_000_000
        balance += credit
        entry_id = entry_base + slot * n + np.arange(n) + 1
        contribution_id = contribution_base + c * n + np.arange(n) + 1
        month = month_text(previous_month(first))
        add_credit(chunk, vocab, n, entry_id, person_id, credit, balance, month, retired, when)
        chunk.add(
            "contributions",
            [
                cb.int8(contribution_id),
                cb.int8(person_id),
                cb.text(cb.constant(month, n)),
                cb.int8(np.where(retired, 0, base_fen)),
                cb.int8(np.where(retired, 0, base_fen * 9 // 100)),
                cb.int8(np.where(retired, 0, base_fen * 2 // 100)),
                cb.int8(credit),
                cb.pg_date(cb.days_since_2000(first) + day - 1),
                cb.text(cb.constant("normal", n)),
                cb.int8(entry_id),
                cb.timestamptz(when),
            ],
            n,
        )
        slot += 1
        windows = [(10, 19), (19, 28)] if c % 2 == 0 else [(10, 28)]
        with_row = c >= world.months - world.settlement_months
        with_items = with_row and c >= world.months - world.item_months
        for lo, hi in windows:
            day = rng.integers(lo, hi, n)
            secs = rng.integers(8 * 3600, 20 * 3600, n)
            when = base + (day - 1) * 86_400_000_000 + secs * 1_000_000
            at_pharmacy = rng.random(n) < 0.6
            inst = np.where(at_pharmacy, pharmacy, hospital)
            picks = np.stack(
                [
                    pools[0][rng.integers(0, len(pools[0]), n)],
                    pools[1][rng.integers(0, len(pools[1]), n)],
                    np.where(
                        rng.random(n) < 0.3,
                        pools[2][rng.integers(0, len(pools[2]), n)],
                        pools[0][rng.integers(0, len(pools[0]), n)],
                    ),
                ]
            )
            cnt = rng.integers(1, 4, (3, n))
            amount = prices[picks] * cnt
            level = levels[picks]
            selfpay_bp = np.where(item_bp[picks] >= 0, item_bp[picks], class_b[None, :])
            ownpay = np.where(level == 3, amount, 0)
            preself = np.where(level == 2, apply_rate(amount, selfpay_bp), 0)
            inscp = amount - ownpay - preself
            medfee = amount.sum(axis=0)
            in_scope = inscp.sum(axis=0)
            dedc = np.minimum(in_scope, np.maximum(deductible - year_used, 0))
            fund = apply_rate(in_scope - dedc, ratio)
            year_used += dedc
            year_fund += fund
            psn_part = medfee - fund
            acct_pay = np.minimum(psn_part, balance // 2)
            balance -= acct_pay
            entry_id = entry_base + slot * n + np.arange(n) + 1
            settlement_id = settlement_base + settled * n + np.arange(n) + 1
            setl = setl_id(first, day, secs, settlement_id)
            add_debit(chunk, vocab, n, entry_id, person_id, acct_pay, balance, setl, inst, when)
            if with_row:
                chunk.add(
                    "settlements",
                    [
                        cb.int8(settlement_id),
                        cb.text(cb.constant("S", n), *setl),
                        cb.text(cb.constant("M", n), *setl),
                        cb.int8(person_id),
                        cb.text(vocab.admdvs.pick(region), psn_no),
                        cb.text(vocab.inst_code.pick(inst)),
                        cb.text(vocab.inst_name.pick(inst)),
                        cb.text(vocab.inst_type.pick(at_pharmacy.astype(np.int64))),
                        cb.text(vocab.med_type.pick(at_pharmacy.astype(np.int64))),
                        cb.text(cb.constant("310", n)),
                        cb.int8(medfee),
                        cb.int8(ownpay.sum(axis=0)),
                        cb.int8(np.zeros(n, dtype=np.int64)),
                        cb.int8(preself.sum(axis=0)),
                        cb.int8(in_scope),
                        cb.int8(dedc),
                        cb.int8(fund),
                        cb.int8(fund),
                        cb.int8(psn_part),
                        cb.int8(acct_pay),
                        cb.int8(np.zeros(n, dtype=np.int64)),
                        cb.int8(psn_part - acct_pay),
                        cb.int8(balance),
                        cb.timestamptz(when),
                        cb.text(cb.constant("settled", n)),
                        cb.text(vocab.inst_code.pick(inst), *setl[:3], cb.digits(settlement_id, 4)),
                    ],
                    n,
                )
            if with_items:
                for t in range(3):
                    item_id = item_base + (item_slot * 3 + t) * n + np.arange(n) + 1
                    chunk.add(
                        "settlement_items",
                        [
                            cb.int8(item_id),
                            cb.int8(settlement_id),
                            cb.text(cb.constant(str(t + 1), n)),
                            cb.text(vocab.item_code.pick(picks[t])),
                            cb.text(vocab.item_name.pick(picks[t])),
                            cb.text(vocab.level.pick(level[t] - 1)),
                            cb.int8(prices[picks[t]]),
                            cb.text(vocab.digit.pick(cnt[t])),
                            cb.int8(amount[t]),
                            cb.int8(ownpay[t]),
                            cb.int8(np.zeros(n, dtype=np.int64)),
                            cb.int8(preself[t]),
                            cb.int8(inscp[t]),
                        ],
                        n,
                    )
                item_slot += 1
            updated = when
            slot += 1
            settled += 1
    add_accumulations(chunk, person_id, year, year_used, year_fund)

    chunk.add(
        "personal_accounts",
        [
            cb.int8(person_id),
            cb.int8(person_id),
            cb.int8(balance),
            cb.text(cb.constant("active", n)),
            cb.timestamptz(np.full(n, created)),
            cb.timestamptz(updated),
        ],
        n,
    )
    return chunk
