"""The history of a chunk of persons: every row of every bulk table, built column-wise.

See `shape` for what the data keeps. Per calendar month, vectorised over the chunk's persons:
the previous month's contribution is credited, then one or two bills are settled; each step
appends its rows (ledger entries, contributions, settlements, items) to the chunk in time order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from yibao.cli.bench import copybin as cb
from yibao.cli.bench.shape import (
    BIRTH_DAYS,
    BIRTH_FIRST,
    GIVEN,
    ID_CAPACITY,
    ID_MULTIPLIER,
    RETIRED_BEFORE,
    SURNAMES,
    Chunk,
    Ints,
    World,
    id_numbers,
    micros,
    month_start,
    month_text,
    phone_numbers,
    psn_numbers,
)
from yibao.kernel.pii import PersonalDataCipher


class _Vocab:
    def __init__(self, world: World) -> None:
        self.surname = cb.Vocabulary(list(SURNAMES))
        given = [GIVEN[i : i + 2] for i in range(0, len(GIVEN) - 1, 2)] + list(GIVEN[:20])
        self.given = cb.Vocabulary(given)
        self.admdvs = cb.Vocabulary([r.admdvs for r in world.regions])
        self.inst_code = cb.Vocabulary([i.code for i in world.institutions])
        self.inst_name = cb.Vocabulary([i.name for i in world.institutions])
        self.item_code = cb.Vocabulary([i.code for i in world.items])
        self.item_name = cb.Vocabulary([i.name for i in world.items])
        self.counterparty = cb.Vocabulary(["个人缴费划入", "医保经办机构"])
        self.kind = cb.Vocabulary(["contribution_credit", "settlement_debit"])
        self.ptype = cb.Vocabulary(["1101", "1201"])
        self.inst_type = cb.Vocabulary(["H", "P"])
        self.med_type = cb.Vocabulary(["11", "41"])
        self.level = cb.Vocabulary(["01", "02", "03"])
        self.digit = cb.Vocabulary([str(d) for d in range(10)])


def _rate(amount: Ints, bp: Ints | int) -> Ints:
    """amount × bp / 10000, rounded half up (kernel.money.apply_rate_bp, vectorised)."""
    return np.asarray((amount * bp + 5_000) // 10_000, dtype=np.int64)


def generate(
    world: World,
    cipher: PersonalDataCipher,
    start: int,
    stop: int,
    encrypt: Callable[[PersonalDataCipher, list[bytes], str], list[bytes]] | None = None,
) -> Chunk:
    """Rows of persons [start, stop) for every table."""
    n = stop - start
    rng = np.random.default_rng([world.seed, start])
    vocab = _Vocab(world)
    chunk = Chunk()
    index = np.arange(start, stop, dtype=np.int64)
    person_id = index + 1
    region = index % len(world.regions)
    regions = world.regions

    # -- persons ---------------------------------------------------------------------------
    ids = id_numbers(index, world)
    id_rows = [bytes(row) for row in ids]
    phone_digits = cb.digits(phone_numbers(index), 9).matrix
    phones = np.concatenate([np.full((n, 2), np.frombuffer(b"13", np.uint8)), phone_digits], 1)
    phone_rows = [bytes(row) for row in phones]
    seal = encrypt or _encrypt
    id_enc = seal(cipher, id_rows, "id_number")
    phone_enc = seal(cipher, phone_rows, "phone")
    id_hash = [cipher.lookup_hash(v.decode(), purpose="id_number").encode() for v in id_rows]
    phone_hash = [cipher.lookup_hash(v.decode(), purpose="phone").encode() for v in phone_rows]
    birth_day = (index * ID_MULTIPLIER + 12_345) % ID_CAPACITY % BIRTH_DAYS
    seq = (index * ID_MULTIPLIER + 12_345) % ID_CAPACITY // BIRTH_DAYS
    retired = birth_day < RETIRED_BEFORE
    birth_2000 = birth_day + (BIRTH_FIRST.toordinal() - cb.PG_EPOCH_DAY)
    created = micros(world.first_month)
    psn_no = cb.digits(psn_numbers(index), 12)
    chunk.add(
        "persons",
        [
            cb.int8(person_id),
            cb.text(vocab.admdvs.pick(region), psn_no),
            cb.text(
                vocab.surname.pick(rng.integers(0, len(SURNAMES), n)),
                vocab.given.pick(rng.integers(0, len(vocab.given.lengths), n)),
            ),
            cb.text(cb.fixed_bytes(id_enc, len(id_enc[0]))),
            cb.text(cb.fixed_bytes(id_hash, 64)),
            cb.text(cb.Segment(ids[:, :3]), cb.constant("*" * 11, n), cb.Segment(ids[:, 14:18])),
            cb.text(cb.Segment((seq % 2 == 0).astype(np.uint8)[:, None] + ord("1"))),
            cb.pg_date(birth_2000),
            cb.text(cb.fixed_bytes(phone_enc, len(phone_enc[0]))),
            cb.text(cb.fixed_bytes(phone_hash, 64)),
            cb.text(cb.Segment(phones[:, :3]), cb.constant("****", n), cb.Segment(phones[:, 7:])),
            cb.text(cb.constant("BK", n), cb.digits(person_id, 10)),
            cb.timestamptz(np.full(n, created)),
        ],
        n,
    )

    # -- enrolments ------------------------------------------------------------------------
    first_employer = np.array([r.first_employer_id for r in regions])[region]
    employers = np.array([r.employers for r in regions])[region]
    employer_id = first_employer + rng.integers(0, 1 << 30, n) % employers
    chunk.add(
        "enrolments",
        [
            cb.int8(person_id),
            cb.int8(person_id),
            cb.text(cb.constant("310", n)),
            cb.text(vocab.ptype.pick(retired.astype(np.int64))),
            cb.text(cb.constant("1", n)),
            cb.text(vocab.admdvs.pick(region)),
            cb.int8(employer_id, null=retired),
            cb.pg_date(np.full(n, cb.days_since_2000(world.first_month))),
        ],
        n,
    )

    # -- the history, one calendar month at a time ------------------------------------------
    base_fen = rng.integers(50, 300, n) * 10_000
    rate = np.array([r.credit_rate_bp for r in regions])[region]
    credit = np.where(
        retired, np.array([r.retiree_credit_fen for r in regions])[region], _rate(base_fen, rate)
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
            _accumulations(chunk, person_id, year, year_used, year_fund)
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
        month = month_text(_previous_month(first))
        _credit(chunk, vocab, n, entry_id, person_id, credit, balance, month, retired, when)
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
            preself = np.where(level == 2, _rate(amount, selfpay_bp), 0)
            inscp = amount - ownpay - preself
            medfee = amount.sum(axis=0)
            in_scope = inscp.sum(axis=0)
            dedc = np.minimum(in_scope, np.maximum(deductible - year_used, 0))
            fund = _rate(in_scope - dedc, ratio)
            year_used += dedc
            year_fund += fund
            psn_part = medfee - fund
            acct_pay = np.minimum(psn_part, balance // 2)
            balance -= acct_pay
            entry_id = entry_base + slot * n + np.arange(n) + 1
            settlement_id = settlement_base + settled * n + np.arange(n) + 1
            setl = _setl_id(first, day, secs, settlement_id)
            _debit(chunk, vocab, n, entry_id, person_id, acct_pay, balance, setl, inst, when)
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
    _accumulations(chunk, person_id, year, year_used, year_fund)

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


def _previous_month(first: date) -> date:
    return (first - timedelta(days=1)).replace(day=1)


def _encrypt(cipher: PersonalDataCipher, values: list[bytes], purpose: str) -> list[bytes]:
    return [cipher.encrypt(v.decode(), purpose=purpose) for v in values]


def _setl_id(first: date, day: Ints, secs: Ints, settlement_id: Ints) -> list[cb.Segment]:
    """yyyyMMdd HHmmss (Beijing time) and 8 digits: the settlement feature's id shape."""
    n = day.shape[0]
    return [
        cb.constant(f"{first.year:04d}{first.month:02d}", n),
        cb.digits(day, 2),
        cb.digits(secs // 3600 * 10_000 + secs // 60 % 60 * 100 + secs % 60, 6),
        cb.digits(settlement_id % 10**8, 8),
    ]


def _credit(
    chunk: Chunk,
    vocab: _Vocab,
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


def _debit(
    chunk: Chunk,
    vocab: _Vocab,
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


def _accumulations(chunk: Chunk, person_id: Ints, year: int, used: Ints, fund: Ints) -> None:
    n = person_id.shape[0]
    chunk.add(
        "yearly_accumulations",
        [cb.int8(person_id), cb.int4(np.full(n, year)), cb.int8(used), cb.int8(fund)],
        n,
    )
