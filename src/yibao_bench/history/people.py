"""The rows of each person in a chunk: persons (personal data sealed as the app seals it) and
enrolments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from yibao.kernel.pii import PersonalDataCipher
from yibao_bench import copybin as cb
from yibao_bench.shape import (
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
    phone_numbers,
    psn_numbers,
)

Encrypt = Callable[[PersonalDataCipher, list[bytes], str], list[bytes]]


class Vocab:
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


@dataclass(frozen=True, slots=True)
class People:
    """What the month-by-month history needs to know of the chunk's persons."""

    psn_no: cb.Segment
    retired: npt.NDArray[np.bool_]
    created: int


def add_people(
    chunk: Chunk,
    world: World,
    vocab: Vocab,
    rng: np.random.Generator,
    cipher: PersonalDataCipher,
    encrypt: Encrypt | None,
    index: Ints,
    region: Ints,
) -> People:
    """Add the persons and enrolments rows; draws from `rng` in the order `generate` always has."""
    n = index.shape[0]
    person_id = index + 1
    regions = world.regions

    # -- persons ---------------------------------------------------------------------------
    ids = id_numbers(index, world)
    id_rows = [bytes(row) for row in ids]
    phone_digits = cb.digits(phone_numbers(index), 9).matrix
    phones = np.concatenate([np.full((n, 2), np.frombuffer(b"13", np.uint8)), phone_digits], 1)
    phone_rows = [bytes(row) for row in phones]
    seal = encrypt or encrypt_each
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
    return People(psn_no=psn_no, retired=retired, created=created)


def encrypt_each(cipher: PersonalDataCipher, values: list[bytes], purpose: str) -> list[bytes]:
    return [cipher.encrypt(v.decode(), purpose=purpose) for v in values]
