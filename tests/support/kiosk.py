"""Kiosk helpers for tests: a social-security card number for a member (enrolment leaves it
empty unless the card was issued), a registered kiosk."""

from __future__ import annotations

import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.identity import Member
from yibao.enrolment.tables import Person
from yibao.kiosks.service import devices
from yibao.runtime import Runtime

PLACE = "市一医院门诊大厅"


async def issue_card(session: AsyncSession, member: Member) -> str:
    """社会保障卡号: 9 characters on the card (EF05 tag 07)."""
    person = await session.get(Person, member.person_id)
    assert person is not None
    person.card_no = "K" + "".join(secrets.choice("0123456789") for _ in range(8))
    await session.commit()
    member.card_no = person.card_no
    return person.card_no


async def register(
    runtime: Runtime, session: AsyncSession, kiosk_id: str = "HALL-01", place: str = PLACE
) -> str:
    made = await devices.register_kiosk(
        session, runtime.clock, None, kiosk_id=kiosk_id, place=place
    )
    return made.key
