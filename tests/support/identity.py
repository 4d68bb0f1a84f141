"""Identity helpers for tests: a person with an online account, the last SMS code sent."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.world import define_regions, enrol, new_id_number, new_phone
from yibao.identity import service as identity
from yibao.kernel.pii import PersonalDataCipher
from yibao.notifications.service import text_to_send
from yibao.notifications.tables import OutboxMessage
from yibao.runtime import Runtime

PASSWORD = "Yibao@2026"
CARD_PASSWORD = "135790"
# The network address use cases are called from in tests (TEST-NET-1, RFC 5737).
CLIENT = "192.0.2.10"
SUITE_DATA_KEY = b"k" * 32


@dataclass
class Member:
    person_id: int
    account_id: int
    name: str
    id_number: str
    phone: str
    card_no: str | None


async def member(
    runtime: Runtime,
    session: AsyncSession,
    *,
    name: str = "王芳",
    with_regions: bool = True,
    card_password: str | None = CARD_PASSWORD,
) -> Member:
    if with_regions:
        from yibao.enrolment.tables import Region

        if await session.get(Region, "310000") is None:
            await define_regions(session)
    id_number = new_id_number()
    phone = new_phone()
    enrolled = await enrol(runtime, session, name=name, id_number=id_number, phone=phone)
    account = await identity.open_account_at_counter(
        runtime,
        session,
        id_number=id_number,
        phone=phone,
        password=PASSWORD,
        card_password=card_password,
        by="test",
    )
    return Member(
        person_id=enrolled.person.id,
        account_id=account.id,
        name=name,
        id_number=id_number,
        phone=phone,
        card_no=enrolled.person.card_no,
    )


_CODE = re.compile(r"验证码为 (\d{6})")


async def last_code(session: AsyncSession, phone_masked: str | None = None) -> str:
    """The code in the newest SMS, not yet delivered. Ends the session's transaction first: on
    SQLite an open one holds the write lock the short-lived store needs."""
    await session.rollback()
    stmt = select(OutboxMessage).where(OutboxMessage.channel == "sms")
    if phone_masked:
        stmt = stmt.where(OutboxMessage.phone_masked == phone_masked)
    row = (await session.execute(stmt.order_by(OutboxMessage.id.desc()).limit(1))).scalar_one()
    # The outbox keeps the code only sealed, with the suite's data key (TEST_DATA_KEY in
    # tests/conftest.py, which imports this module's neighbours and so cannot be imported here).
    body = text_to_send(PersonalDataCipher(SUITE_DATA_KEY), row)
    await session.rollback()
    found = _CODE.search(body)
    assert found, body
    return found.group(1)


async def stepped_up_bearer(client: httpx.AsyncClient, phone: str) -> dict[str, str]:
    """Sign in through the API with the test password and step up with the card password."""
    response = await client.post(
        "/api/v1/auth/tokens", json={"identifier": phone, "password": PASSWORD}
    )
    assert response.status_code == 201, response.text
    headers = {"Authorization": f"Bearer {response.json()['token']}"}
    step = await client.post(
        "/api/v1/auth/step-up",
        json={"method": "card_password", "card_password": CARD_PASSWORD},
        headers=headers,
    )
    assert step.status_code == 200, step.text
    return headers
