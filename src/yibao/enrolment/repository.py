"""Queries on regions, employers, persons and enrolments. Never commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.db.direct import Row, Sql, direct
from yibao.db.reference import reference_cache
from yibao.enrolment.domain import (
    Cover,
    InsuredPerson,
    MutualAidScope,
    RegionRules,
    UnknownRegion,
)
from yibao.enrolment.tables import Employer, Enrolment, Person, Region
from yibao.kernel.pii import PersonalDataCipher

ID_PURPOSE = "id_number"
PHONE_PURPOSE = "phone"


async def region(session: AsyncSession, admdvs: str) -> Region:
    found = await session.get(Region, admdvs)
    if found is None:
        raise UnknownRegion(f"未知医保区划 {admdvs}，请先用 yibao regions list 查看可用区划")
    return found


REGION_RULES = "region-rules"


async def region_rules(session: AsyncSession, admdvs: str) -> RegionRules:
    """A region's rules, cached per process for a few seconds (db/reference.py)."""
    cache = reference_cache(session)
    found, rules = cache.get(REGION_RULES, admdvs)
    if not found:
        rules = rules_of(await region(session, admdvs))
        cache.put(REGION_RULES, admdvs, rules)
    return rules  # type: ignore[no-any-return]


def forget_region(session: AsyncSession, admdvs: str) -> None:
    reference_cache(session).forget(REGION_RULES, admdvs)


def rules_of(region_row: Region) -> RegionRules:
    return RegionRules(
        account_credit_rate_bp=region_row.account_credit_rate_bp,
        retiree_monthly_credit_fen=region_row.retiree_monthly_credit_fen,
        deductible_fen=region_row.deductible_fen,
        fund_ratio_bp=region_row.fund_ratio_bp,
        retiree_fund_ratio_bp=region_row.retiree_fund_ratio_bp,
        yearly_cap_fen=region_row.yearly_cap_fen,
        class_b_selfpay_bp=region_row.class_b_selfpay_bp,
        near_relatives_allowed=region_row.near_relatives_allowed,
        mutual_aid_scope=MutualAidScope(region_row.mutual_aid_scope),
        resident_contribution_fen=region_row.resident_contribution_fen,
    )


async def all_regions(session: AsyncSession) -> list[Region]:
    return list((await session.execute(select(Region).order_by(Region.admdvs))).scalars())


async def employer_by_name(session: AsyncSession, name: str) -> Employer | None:
    stmt = select(Employer).where(Employer.name == name)
    return (await session.execute(stmt)).scalar_one_or_none()


async def person_by_id_number(
    session: AsyncSession, cipher: PersonalDataCipher, id_number: str
) -> Person | None:
    digest = cipher.lookup_hash(id_number, purpose=ID_PURPOSE)
    stmt = select(Person).where(Person.id_number_hash == digest)
    return (await session.execute(stmt)).scalar_one_or_none()


async def persons_by_id_numbers(
    session: AsyncSession, cipher: PersonalDataCipher, id_numbers: Sequence[str]
) -> dict[str, Person]:
    """Many at once (imports): by ID number, those found."""
    by_digest = {cipher.lookup_hash(n, purpose=ID_PURPOSE): n for n in id_numbers}
    stmt = select(Person).where(Person.id_number_hash.in_(list(by_digest)))
    return {by_digest[p.id_number_hash]: p for p in (await session.execute(stmt)).scalars()}


async def persons_by_phone(
    session: AsyncSession, cipher: PersonalDataCipher, phone: str
) -> list[Person]:
    digest = cipher.lookup_hash(phone, purpose=PHONE_PURPOSE)
    return list(
        (await session.execute(select(Person).where(Person.phone_hash == digest))).scalars()
    )


async def person_by_psn_no(session: AsyncSession, psn_no: str) -> Person | None:
    stmt = select(Person).where(Person.psn_no == psn_no)
    return (await session.execute(stmt)).scalar_one_or_none()


async def person_by_card_no(session: AsyncSession, card_no: str) -> Person | None:
    stmt = select(Person).where(Person.card_no == card_no)
    return (await session.execute(stmt)).scalar_one_or_none()


async def person(session: AsyncSession, person_id: int) -> Person | None:
    return await session.get(Person, person_id)


async def insured_with_cover(
    session: AsyncSession, psn_no: str
) -> tuple[InsuredPerson, list[Cover]] | None:
    """The person and their enrolments (by insutype): one statement on the driver, inside the
    use case's transaction (settlement's hot path; db/direct/)."""
    db = await direct(session, transaction=True)
    return insured_of(await db.fetch(_INSURED_WITH_COVER, psn_no=psn_no))


# What `insured_of` reads: persons `p` LEFT JOIN enrolments `e`, for statements that read more
# alongside (settlement reads the visit in the same round trip).
INSURED_COLUMNS = (
    "p.id, p.psn_no, p.name, p.id_number_hash, p.id_number_masked, p.gender, p.birth_date,"
    " p.card_no, e.insutype, e.psn_type, e.status, e.admdvs"
)


def insured_of(rows: Sequence[Row]) -> tuple[InsuredPerson, list[Cover]] | None:
    if not rows:
        return None
    first = rows[0]
    person = InsuredPerson(
        first["id"],
        first["psn_no"],
        first["name"],
        first["id_number_hash"],
        first["id_number_masked"],
        first["gender"],
        first["birth_date"],  # a date: statements name it in `dates` (SQLite gives text)
        first["card_no"],
    )
    cover = [
        Cover(r["insutype"], r["psn_type"], r["status"], r["admdvs"])
        for r in rows
        if r["insutype"] is not None
    ]
    return person, cover


# Fixed fragments of this module; every value is a bound parameter.
_INSURED_WITH_COVER = Sql(
    f"""
    SELECT {INSURED_COLUMNS}
    FROM persons p
    LEFT JOIN enrolments e ON e.person_id = p.id
    WHERE p.psn_no = :psn_no
    ORDER BY e.insutype, e.id
    """,  # noqa: S608
    dates=("birth_date",),
)


async def enrolments_of(session: AsyncSession, person_id: int) -> list[Enrolment]:
    stmt = select(Enrolment).where(Enrolment.person_id == person_id).order_by(Enrolment.insutype)
    return list((await session.execute(stmt)).scalars())


async def main_enrolment(session: AsyncSession, person_id: int) -> Enrolment | None:
    """The basic-insurance enrolment (310 before 390) that settlement and pages speak of."""
    enrolments = [
        e for e in await enrolments_of(session, person_id) if e.insutype in {"310", "390"}
    ]
    return enrolments[0] if enrolments else None


async def main_enrolments(session: AsyncSession, person_ids: Sequence[int]) -> dict[int, Enrolment]:
    """`main_enrolment` of many persons at once (imports)."""
    stmt = (
        select(Enrolment)
        .where(Enrolment.person_id.in_(list(person_ids)), Enrolment.insutype.in_(["310", "390"]))
        .order_by(Enrolment.person_id, Enrolment.insutype)
    )
    found: dict[int, Enrolment] = {}
    for enrolment in (await session.execute(stmt)).scalars():
        found.setdefault(enrolment.person_id, enrolment)
    return found


def decrypt_id_number(cipher: PersonalDataCipher, person_row: Person) -> str:
    return cipher.decrypt(person_row.id_number_enc, purpose=ID_PURPOSE)


def decrypt_phone(cipher: PersonalDataCipher, person_row: Person) -> str | None:
    if person_row.phone_enc is None:
        return None
    return cipher.decrypt(person_row.phone_enc, purpose=PHONE_PURPOSE)
