"""Use cases of enrolment: enrol a person (opening the personal account for 310), find, list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment import repository
from yibao.enrolment.domain import (
    EnrolmentStatus,
    InvalidEnrolment,
    PersonAlreadyEnrolled,
    UnknownPerson,
    check_person_type,
    has_personal_account,
    parse_admdvs,
)
from yibao.enrolment.tables import Employer, Enrolment, Person, Region
from yibao.kernel.clock import Clock, china_today
from yibao.kernel.idnumber import mask_phone, parse_id_number, parse_phone
from yibao.kernel.ids import new_psn_no
from yibao.kernel.pii import PersonalDataCipher
from yibao.ledger import repository as ledger_repository


@dataclass(frozen=True, slots=True)
class NewPerson:
    name: str
    id_number: str
    phone: str | None
    admdvs: str
    insutype: str
    psn_type: str
    employer: str | None = None
    card_no: str | None = None
    begin_date: date | None = None


@dataclass(frozen=True, slots=True)
class EnrolledPerson:
    person: Person
    enrolment: Enrolment
    account_id: int | None


def validate_new_person(new: NewPerson) -> tuple[str, str | None]:
    """Check what can be checked without the database; returns the clean ID number and phone."""
    name = new.name.strip()
    if not (1 <= len(name) <= 50):
        raise InvalidEnrolment("姓名不能为空，且不超过50个字")
    id_number = parse_id_number(new.id_number).value
    phone = parse_phone(new.phone) if new.phone else None
    parse_admdvs(new.admdvs)
    check_person_type(new.insutype, new.psn_type)
    if new.insutype == "310" and not new.employer and new.psn_type == "1101":
        raise InvalidEnrolment("在职职工参保需要填写单位名称（--employer）")
    return id_number, phone


async def add_person(
    session: AsyncSession, cipher: PersonalDataCipher, clock: Clock, new: NewPerson
) -> EnrolledPerson:
    """Enrol one person; flushes but does not commit (for imports of many in one transaction)."""
    id_number, phone = validate_new_person(new)
    region = await repository.region(session, new.admdvs)
    if await repository.person_by_id_number(session, cipher, id_number) is not None:
        raise PersonAlreadyEnrolled(f"身份证号 {parse_id_number(id_number).masked} 的参保人已存在")
    parsed = parse_id_number(id_number)
    now = clock.now()
    person = Person(
        psn_no=new_psn_no(region.admdvs),
        name=new.name.strip(),
        id_number_enc=cipher.encrypt(id_number, purpose=repository.ID_PURPOSE),
        id_number_hash=cipher.lookup_hash(id_number, purpose=repository.ID_PURPOSE),
        id_number_masked=parsed.masked,
        gender=parsed.gender,
        birth_date=parsed.birth_date,
        phone_enc=cipher.encrypt(phone, purpose=repository.PHONE_PURPOSE) if phone else None,
        phone_hash=cipher.lookup_hash(phone, purpose=repository.PHONE_PURPOSE) if phone else None,
        phone_masked=mask_phone(phone) if phone else None,
        card_no=new.card_no,
        created_at=now,
    )
    session.add(person)
    employer_id = None
    if new.employer:
        employer = await repository.employer_by_name(session, new.employer.strip())
        if employer is None:
            employer = Employer(name=new.employer.strip(), admdvs=region.admdvs)
            session.add(employer)
            await session.flush()
        employer_id = employer.id
    await session.flush()
    enrolment = Enrolment(
        person_id=person.id,
        insutype=new.insutype,
        psn_type=new.psn_type,
        status=EnrolmentStatus.NORMAL.value,
        admdvs=region.admdvs,
        employer_id=employer_id,
        begin_date=new.begin_date or china_today(clock),
    )
    session.add(enrolment)
    account_id = None
    if has_personal_account(new.insutype):
        account = await ledger_repository.open_account(session, person.id, now)
        account_id = account.id
    await session.flush()
    return EnrolledPerson(person=person, enrolment=enrolment, account_id=account_id)


async def enrol_person(
    session: AsyncSession, cipher: PersonalDataCipher, clock: Clock, new: NewPerson
) -> EnrolledPerson:
    try:
        enrolled = await add_person(session, cipher, clock, new)
        await session.commit()
    except IntegrityError as exc:
        await session.rollback()
        raise PersonAlreadyEnrolled("该参保人或社保卡号已存在") from exc
    return enrolled


async def enrol_many(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    clock: Clock,
    rows: list[tuple[int, NewPerson]],
) -> tuple[list[EnrolledPerson], list[tuple[int, str]]]:
    """All or nothing: every bad row is reported with its line number and nothing is written."""
    errors: list[tuple[int, str]] = []
    seen: set[str] = set()
    for line, new in rows:
        try:
            id_number, _ = validate_new_person(new)
        except Exception as exc:
            errors.append((line, str(exc)))
            continue
        if id_number in seen:
            errors.append((line, "文件中身份证号重复"))
        seen.add(id_number)
    if errors:
        return [], errors
    done: list[EnrolledPerson] = []
    for line, new in rows:
        try:
            done.append(await add_person(session, cipher, clock, new))
        except Exception as exc:
            errors.append((line, str(exc)))
    if errors:
        await session.rollback()
        return [], errors
    await session.commit()
    return done, []


async def find_person(session: AsyncSession, cipher: PersonalDataCipher, key: str) -> Person:
    """By ID number or psn_no (the operators' `persons show`)."""
    key = key.strip()
    found = None
    if len(key) == 18:
        found = await repository.person_by_id_number(session, cipher, key.upper())
    if found is None:
        found = await repository.person_by_psn_no(session, key)
    if found is None:
        raise UnknownPerson(f"找不到参保人 {key}")
    return found


async def list_regions(session: AsyncSession) -> list[Region]:
    return await repository.all_regions(session)


async def define_region(session: AsyncSession, region: Region) -> Region:
    """Create or replace a region's rules (demo data, operators)."""
    parse_admdvs(region.admdvs)
    merged = await session.merge(region)
    await session.commit()
    repository.forget_region(session, merged.admdvs)
    return merged


async def has_persons(session: AsyncSession) -> bool:
    from sqlalchemy import select

    return (await session.execute(select(Person.id).limit(1))).first() is not None
