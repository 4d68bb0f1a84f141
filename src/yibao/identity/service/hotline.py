"""The hotline identifies a caller by the ID number and the 医保卡密码 typed on the keypad.

The card password is checked by the one check every channel uses (identity/service/card_password.py):
a wrong password on the phone line counts toward the lock the app and the kiosk show, and a card
password locked there is locked on the line. The caller's "address" is the call (the telephony's
caller id or the call's reference), so one call that keeps guessing is held back like one browser
would be.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment import repository as enrolment_repository

# The hotline backend tells these apart (a locked card is said with its time).
from yibao.identity.domain import CardPasswordLocked as CardPasswordLocked
from yibao.identity.domain import NoCardPassword as NoCardPassword
from yibao.identity.service.card_password import verify_card_password
from yibao.identity.service.common import refuse_if_throttled
from yibao.kernel.errors import NotFound
from yibao.kernel.idnumber import parse_id_number
from yibao.runtime import Runtime

VIA = "hotline"


class UnknownCaller(NotFound):
    code = "unknown_caller"


@dataclass(frozen=True, slots=True)
class Caller:
    person_id: int
    name: str


async def find_caller(rt: Runtime, session: AsyncSession, id_number: str, *, client: str) -> int:
    """The person an ID number typed on the keypad names (InvalidIdNumber for a bad check digit)."""
    await refuse_if_throttled(rt, client)
    parsed = parse_id_number(id_number)
    person = await enrolment_repository.person_by_id_number(session, rt.cipher, parsed.value)
    if person is None:
        raise UnknownCaller("没有查到这个身份证号码的参保信息")
    return person.id


async def identify_caller(
    rt: Runtime, session: AsyncSession, person_id: int, card_password: str, *, client: str
) -> Caller:
    """Checks the card password of the person `find_caller` named; commits the try either way."""
    holder = await verify_card_password(
        rt,
        session,
        person_id=person_id,
        card_password=card_password,
        via=VIA,
        client=client,
        not_set="您还没有设置医保卡密码",
    )
    person = await enrolment_repository.person(session, holder.person_id)
    if person is None:  # an account belongs to an enrolled person: never, but never a crash
        raise NoCardPassword("您还没有设置医保卡密码")
    await session.commit()
    return Caller(person_id=holder.person_id, name=person.name)
