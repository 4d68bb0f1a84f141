"""The bench world: insured persons with three years of history, generated a chunk at a time.

What the data keeps, so every page and every query sees a consistent world:
- every person is an employee (310): in service (1101, with an employer) or retired (1201, born
  before 1966); one enrolment, one personal account; ID numbers are valid (GB 11643 check
  character) and unique, stored encrypted with the runtime's cipher and found by its keyed hash;
- each calendar month the previous month's contribution is credited (days 3–9), and one or two
  bills are settled (days 10–18 and 19–27): 12 credits and 18 settlements a year per person;
- a bill has three catalogue items; 丙 is fully self-paid, 乙 pays its pre-self-pay share, the
  rest is in scope; the region's deductible is met first each year, then the fund pays its ratio;
  the account pays at most half its balance (so it never reaches zero) and the rest is cash;
- balance_after of each entry is the running sum of the account's entries and the account's
  balance is the last of them; settlement rows carry the same figures the ledger shows.
Ids are assigned here from the person's index, so rows point at each other without a round trip;
the loader moves the sequences past them afterwards.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
import numpy.typing as npt

from yibao_bench import copybin as cb

Ints = npt.NDArray[np.int64]

ENTRIES_PER_PERSON_YEAR = 30
CREDITS_PER_YEAR = 12
SETTLEMENTS_PER_YEAR = 18
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)
BIRTH_FIRST = date(1956, 1, 1)
BIRTH_DAYS = (date(1999, 12, 31) - BIRTH_FIRST).days + 1
RETIRED_BEFORE = (date(1966, 1, 1) - BIRTH_FIRST).days
ID_CAPACITY = BIRTH_DAYS * 1000
_CHINA = timedelta(hours=8)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰文辉晓东海燕丹婷雪梅鹏飞宇浩然欣怡子涵梓轩佳琪思远嘉怡俊杰晨曦雨萱"


def _scramble(multiplier: int, modulus: int) -> int:
    while math.gcd(multiplier, modulus) != 1:
        multiplier += 2
    return multiplier


ID_MULTIPLIER = _scramble(7_919, ID_CAPACITY)
_PSN_MULT = 982_451_653
_PHONE_MULT = 1_000_003


@dataclass(frozen=True)
class RegionShape:
    admdvs: str
    districts: tuple[str, ...]
    credit_rate_bp: int
    retiree_credit_fen: int
    deductible_fen: int
    fund_ratio_bp: int
    retiree_fund_ratio_bp: int
    class_b_selfpay_bp: int
    first_employer_id: int
    employers: int
    hospitals: tuple[int, ...]  # indexes into World.institutions
    pharmacies: tuple[int, ...]


@dataclass(frozen=True)
class InstitutionShape:
    code: str
    name: str
    kind: str  # "H" | "P"


@dataclass(frozen=True)
class ItemShape:
    code: str
    name: str
    level: str  # "01" 甲 | "02" 乙 | "03" 丙
    price_fen: int
    selfpay_bp: int | None


@dataclass(frozen=True)
class World:
    seed: int
    persons: int
    first_month: date  # first calendar month of the history (day 1)
    months: int
    item_months: int  # the most recent months whose settlements carry their items
    settlement_months: int  # the most recent months whose settlements keep their rows
    loaded_at: datetime
    regions: tuple[RegionShape, ...]
    institutions: tuple[InstitutionShape, ...]
    items: tuple[ItemShape, ...]

    @property
    def settlements_per_person(self) -> int:
        return sum(1 + (c % 2 == 0) for c in range(self.months))

    @property
    def entries_per_person(self) -> int:
        return self.months + self.settlements_per_person

    @property
    def item_rows_per_person(self) -> int:
        first = self.months - self.item_months
        return 3 * sum(1 + (c % 2 == 0) for c in range(first, self.months))


def month_start(world: World, c: int) -> date:
    index = world.first_month.year * 12 + world.first_month.month - 1 + c
    return date(index // 12, index % 12 + 1, 1)


def month_text(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def micros(day: date) -> int:
    """Local (Beijing) midnight of `day` as microseconds since 2000-01-01 UTC."""
    local_midnight = datetime(day.year, day.month, day.day, tzinfo=UTC) - _CHINA
    return cb.micros_since_2000(local_midnight)


@dataclass
class Chunk:
    """Encoded rows of every table for one range of persons, ready for COPY."""

    rows: dict[str, int] = field(default_factory=dict)
    data: dict[str, list[bytes]] = field(default_factory=dict)

    def add(self, table: str, fields: list[cb.Field], n: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + n
        self.data.setdefault(table, []).append(cb.encode(fields, n))


# Column lists of the COPY, in the order the fields are built below.
COLUMNS: dict[str, list[str]] = {
    "persons": [
        "id",
        "psn_no",
        "name",
        "id_number_enc",
        "id_number_hash",
        "id_number_masked",
        "gender",
        "birth_date",
        "phone_enc",
        "phone_hash",
        "phone_masked",
        "card_no",
        "created_at",
    ],
    "enrolments": [
        "id",
        "person_id",
        "insutype",
        "psn_type",
        "status",
        "admdvs",
        "employer_id",
        "begin_date",
    ],
    "personal_accounts": ["id", "person_id", "balance_fen", "status", "opened_at", "updated_at"],
    "contributions": [
        "id",
        "person_id",
        "month",
        "base_fen",
        "employer_fen",
        "personal_fen",
        "credited_fen",
        "arrived_on",
        "status",
        "ledger_entry_id",
        "created_at",
    ],
    "ledger_entries": [
        "id",
        "account_id",
        "kind",
        "amount_fen",
        "balance_after_fen",
        "idempotency_key",
        "counterparty",
        "counterparty_code",
        "source_type",
        "source_id",
        "created_at",
    ],
    "settlements": [
        "id",
        "setl_id",
        "mdtrt_id",
        "person_id",
        "psn_no",
        "fixmedins_code",
        "fixmedins_name",
        "fixmedins_type",
        "med_type",
        "insutype",
        "medfee_sumamt_fen",
        "fulamt_ownpay_amt_fen",
        "overlmt_selfpay_fen",
        "preselfpay_amt_fen",
        "inscp_scp_amt_fen",
        "act_pay_dedc_fen",
        "hifp_pay_fen",
        "fund_pay_sumamt_fen",
        "psn_part_amt_fen",
        "acct_pay_fen",
        "acct_mulaid_pay_fen",
        "psn_cash_pay_fen",
        "balc_fen",
        "setl_time",
        "status",
        "msgid",
    ],
    "settlement_items": [
        "id",
        "settlement_id",
        "feedetl_sn",
        "med_list_codg",
        "med_list_name",
        "chrgitm_lv",
        "pric_fen",
        "cnt",
        "det_item_fee_sumamt_fen",
        "fulamt_ownpay_amt_fen",
        "overlmt_selfpay_fen",
        "preselfpay_amt_fen",
        "inscp_scp_amt_fen",
    ],
    "yearly_accumulations": ["person_id", "year", "deductible_used_fen", "fund_paid_fen"],
}


def id_numbers(index: Ints, world: World) -> npt.NDArray[np.uint8]:
    """Valid, unique ID numbers (18 ASCII bytes a row) for persons `index`."""
    n = index.shape[0]
    j = (index * ID_MULTIPLIER + 12_345) % ID_CAPACITY
    day, seq = j % BIRTH_DAYS, j // BIRTH_DAYS
    region = index % len(world.regions)
    out = np.empty((n, 18), dtype=np.uint8)
    for r, shape in enumerate(world.regions):
        table = np.array([list(d.encode()) for d in shape.districts], dtype=np.uint8)
        mine = region == r
        out[mine, :6] = table[seq[mine] % len(shape.districts)]
    births = (np.datetime64(BIRTH_FIRST) + day.astype("timedelta64[D]")).astype(str)
    out[:, 6:14] = np.char.replace(births, "-", "").astype("S8").view(np.uint8).reshape(n, 8)
    out[:, 14:17] = cb.digits(seq, 3).matrix
    total = ((out[:, :17].astype(np.int64) - 48) * _ID_WEIGHTS).sum(axis=1)
    out[:, 17] = _CHECK[total % 11]
    return out


def psn_numbers(index: Ints) -> Ints:
    return (index * _PSN_MULT + 17) % 10**12


def phone_numbers(index: Ints) -> Ints:
    return (index * _PHONE_MULT + 7) % 10**9
