"""Small worlds for tests: a region, a few persons, money on their accounts."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.cli.demo import REGIONS, make_id_number
from yibao.enrolment import service as enrolment
from yibao.enrolment.tables import Region
from yibao.runtime import Runtime

_rng = random.Random(7)
# Only 500 sequence numbers exist per birth date and sex: a test that enrols many people in one
# database (hypothesis examples) would otherwise draw the same number twice.
_issued: set[str] = set()
_used_up: set[tuple[str, date, bool]] = set()


def new_id_number(district: str = "310104", birth: date | None = None, male: bool = True) -> str:
    """An ID number no test in this process has had. Without a birth date, the default date's 500
    sequence numbers are used up first, then the following days' of 1980 (the suite enrols
    thousands; each keeps the same age)."""
    births = [birth] if birth else [date(1980, 5, 17) + timedelta(days=n) for n in range(200)]
    for day in births:
        if (district, day, male) in _used_up:
            continue
        for _ in range(5_000):
            number = make_id_number(_rng, district, day, male)
            if number not in _issued:
                _issued.add(number)
                return number
        _used_up.add((district, day, male))
    raise RuntimeError(f"no unused ID numbers left for {births[0]}: pass another birth date")


def new_phone() -> str:
    return "139" + "".join(_rng.choice("0123456789") for _ in range(8))


async def define_regions(session: AsyncSession) -> None:
    for region in REGIONS:
        await enrolment.define_region(
            session, Region(**{c.name: getattr(region, c.name) for c in Region.__table__.columns})
        )


async def enrol(
    runtime: Runtime,
    session: AsyncSession,
    *,
    name: str = "王芳",
    insutype: str = "310",
    psn_type: str = "1101",
    admdvs: str = "310000",
    id_number: str | None = None,
    phone: str | None = None,
    employer: str | None = "测试单位有限公司",
    birth: date | None = None,
) -> enrolment.EnrolledPerson:
    return await enrolment.enrol_person(
        session,
        runtime.cipher,
        runtime.clock,
        enrolment.NewPerson(
            name=name,
            id_number=id_number or new_id_number(birth=birth),
            phone=phone or new_phone(),
            admdvs=admdvs,
            insutype=insutype,
            psn_type=psn_type,
            employer=employer if psn_type == "1101" else None,
        ),
    )


async def fund(session: AsyncSession, person_id: int, amount_fen: int, key: str) -> None:
    """Credit an account directly, as a contribution would."""
    from yibao.kernel.clock import SystemClock
    from yibao.ledger import repository as ledger_repository
    from yibao.ledger.domain import EntryKind

    account = await ledger_repository.account_for_person(session, person_id, lock=True)
    assert account is not None
    await ledger_repository.post(
        session,
        account,
        ledger_repository.Posting(
            kind=EntryKind.CONTRIBUTION_CREDIT,
            amount_fen=amount_fen,
            idempotency_key=key,
            counterparty="测试划入",
        ),
        SystemClock().now(),
    )
    await session.commit()
