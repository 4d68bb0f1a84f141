"""The limit on SMS codes asked for per client address (SMS bombing: one client, many phones), on
SQLite and PostgreSQL. Time is a FixedClock so stretches can end; the default is not lowered
except where two processes race."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.identity import member
from tests.support.world import new_id_number, new_phone
from yibao.config import Settings
from yibao.identity import service as identity
from yibao.identity.domain import CodePurpose, RateLimited
from yibao.identity.tables import SecurityEvent
from yibao.kernel.clock import FixedClock
from yibao.notifications.tables import OutboxMessage
from yibao.runtime import Runtime, build_runtime

BOMBER = "203.0.113.7"
NEIGHBOUR = "198.51.100.20"
AT = datetime(2026, 11, 25, 2, 7, 30, tzinfo=UTC)  # 10:07:30 in Beijing; the stretch ends 10:15
CODES = 20  # the default


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(AT)


async def _texts(db: AsyncSession) -> int:
    await db.rollback()
    stmt = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.channel == "sms")
    count = int((await db.execute(stmt)).scalar_one())
    await db.rollback()
    return count


async def _events(db: AsyncSession) -> list[tuple[str, str]]:
    await db.rollback()
    rows = await db.execute(
        select(SecurityEvent.channel, SecurityEvent.detail).where(
            SecurityEvent.kind == "address_sms_throttled"
        )
    )
    events = [(r.channel, r.detail) for r in rows]
    await db.rollback()
    return events


async def test_many_phones_from_one_address_then_every_code_waits(
    rt: Runtime, db: AsyncSession, clock: FixedClock
) -> None:
    """Twenty codes asked for to different phones (registration, sign-in, reset); the 21st and
    every other sending route are refused, with when to come back, having written and sent
    nothing; another address is not; the stretch's end lifts it."""
    m = await member(rt, db)
    send = {"client": BOMBER, "via": "bearer"}
    for _ in range(CODES - 3):
        await identity.send_code(rt, db, new_phone(), CodePurpose.REGISTER, **send)
    # Requests answered "sent" that send nothing count too: the budget must not tell which
    # phones and ID numbers have accounts.
    await identity.send_code(rt, db, new_phone(), CodePurpose.SIGN_IN, **send)
    await identity.send_reset_code(rt, db, new_id_number(), **send)
    await identity.send_code_to_account(rt, db, m.account_id, CodePurpose.STEP_UP, **send)
    texts = await _texts(db)
    assert texts == CODES - 2

    victim = new_phone()
    with pytest.raises(RateLimited, match="请于 2026-11-25 10:15 后再试") as refused:
        await identity.send_code(rt, db, victim, CodePurpose.REGISTER, **send)
    assert refused.value.details["retry_after"] == 450
    assert refused.value.details["until"] == AT + timedelta(seconds=450)
    refusals = [
        identity.send_code(rt, db, m.phone, CodePurpose.SIGN_IN, **send),
        identity.send_reset_code(rt, db, m.id_number, **send),
        identity.send_code_to_account(rt, db, m.account_id, CodePurpose.CARD_PASSWORD, **send),
        identity.send_code(rt, db, "not a phone", CodePurpose.REGISTER, **send),
    ]
    for attempt in refusals:
        with pytest.raises(RateLimited, match="获取验证码次数过多"):
            await attempt
    assert await _texts(db) == texts
    ((channel, detail),) = await _events(db)  # recorded once, by the first refusal
    assert channel == "bearer"
    assert json.loads(detail) == {
        "client": BOMBER,
        "codes": CODES,
        "until": str(AT + timedelta(seconds=450)),
    }

    # The refused request took nothing from the victim's phone: another address gets its code
    # at once (the phone's one-a-minute gap was not spent).
    other = {"client": NEIGHBOUR, "via": "cookie"}
    assert await identity.send_code(rt, db, victim, CodePurpose.REGISTER, **other)
    assert await _texts(db) == texts + 1

    clock.advance(timedelta(seconds=449))
    with pytest.raises(RateLimited):
        await identity.send_code(rt, db, new_phone(), CodePurpose.REGISTER, **send)
    clock.advance(timedelta(seconds=1))  # 10:15: a new stretch
    assert await identity.send_code(rt, db, new_phone(), CodePurpose.REGISTER, **send)
    assert await _texts(db) == texts + 2
    assert len(await _events(db)) == 1


async def test_requests_racing_from_two_processes_all_count(
    settings: Settings, clock: FixedClock
) -> None:
    """Two server processes take code requests from one address at once: exactly the budget
    gets through, the rest are refused, and one of them records the address."""
    limited = settings.model_copy(update={"address_max_sms": 10})
    first, second = build_runtime(limited, clock=clock), build_runtime(limited, clock=clock)

    async def ask(rt: Runtime) -> bool:
        async with rt.sessions() as s:
            try:
                await identity.send_code(
                    rt, s, new_phone(), CodePurpose.SIGN_IN, client=BOMBER, via="bearer"
                )
            except RateLimited:
                return False
            return True

    try:
        answered = await asyncio.gather(*(ask(rt) for rt in (first, second) * 7))
        assert answered.count(True) == 10
        async with first.sessions() as s:
            assert len(await _events(s)) == 1
    finally:
        await first.close()
        await second.close()
