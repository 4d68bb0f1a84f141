"""The one check of the 医保卡密码 every channel calls (identity/service/card_password.py): its
lockout window, its refusals, its security events, and one count per card across channels —
wrong tries at the kiosk and on the phone line add up to one lock."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.identity import CARD_PASSWORD, CLIENT, PASSWORD, Member, member
from tests.support.kiosk import issue_card, register
from yibao.identity import card_lock
from yibao.identity import service as identity
from yibao.identity.domain import CardPasswordLocked, CardPasswordRejected, NoCardPassword
from yibao.identity.service import hotline, kiosk
from yibao.identity.service.card_password import verify_card_password
from yibao.identity.tables import SecurityEvent
from yibao.kernel.clock import FixedClock
from yibao.kiosks.service import devices
from yibao.runtime import Runtime

WRONG = "000000"


async def _try(rt: Runtime, db: AsyncSession, m: Member, password: str, via: str = "cookie") -> int:
    holder = await verify_card_password(
        rt,
        db,
        person_id=m.person_id,
        card_password=password,
        via=via,
        client=CLIENT,
        not_set="没有设置",
    )
    await db.commit()
    return holder.person_id


async def _events(db: AsyncSession, account_id: int) -> list[tuple[str, str, dict[str, object]]]:
    await db.rollback()
    rows = await db.execute(
        select(SecurityEvent)
        .where(SecurityEvent.account_id == account_id)
        .order_by(SecurityEvent.id)
    )
    found = [(e.kind, e.channel, json.loads(e.detail or "{}")) for e in rows.scalars()]
    await db.rollback()
    return found


async def test_the_right_password_names_the_holder_and_clears_the_count(
    rt: Runtime, db: AsyncSession
) -> None:
    m = await member(rt, db)
    with pytest.raises(CardPasswordRejected, match="还可尝试4次") as wrong:
        await _try(rt, db, m, WRONG)
    assert wrong.value.details["left"] == 4
    assert await _try(rt, db, m, f" {CARD_PASSWORD} ") == m.person_id  # spaces typed around it
    assert (await card_lock.lock_state(rt.ephemeral, m.account_id)).failed_count == 0
    events = await _events(db, m.account_id)
    steps = [(kind, channel) for kind, channel, _ in events if kind.startswith("step_up")]
    assert steps == [("step_up_failed", "cookie"), ("step_up_ok", "cookie")]
    failed = next(detail for kind, _, detail in events if kind == "step_up_failed")
    assert failed["method"] == "card_password" and failed["locked_until"] is None
    assert all(CARD_PASSWORD not in json.dumps(detail) for _, _, detail in events)


async def test_five_wrong_within_the_window_lock_for_the_lockout(
    rt: Runtime, db: AsyncSession, clock: FixedClock
) -> None:
    """Five wrong within the window (15 minutes from the first) lock for 30 minutes; spread
    wider, they do not; the lock refuses even the right one until its last second."""
    m = await member(rt, db)
    for left in (4, 3, 2, 1):
        with pytest.raises(CardPasswordRejected, match=f"还可尝试{left}次"):
            await _try(rt, db, m, WRONG)
    clock.advance(timedelta(minutes=15))  # the window has closed: a new one opens
    with pytest.raises(CardPasswordRejected, match="还可尝试4次"):
        await _try(rt, db, m, WRONG)
    for _ in range(3):
        with pytest.raises(CardPasswordRejected):
            await _try(rt, db, m, WRONG)
    with pytest.raises(CardPasswordLocked, match="请于") as locked:
        await _try(rt, db, m, WRONG)  # the fifth says so at once
    assert locked.value.code == "rate_limited"  # answered 429 like every other limit
    assert locked.value.details["retry_after"] == 30 * 60
    events = await _events(db, m.account_id)
    assert events[-1][0] == "step_up_failed" and events[-1][2]["locked_until"] is not None
    clock.advance(timedelta(minutes=30, seconds=-1))
    with pytest.raises(CardPasswordLocked) as still:
        await _try(rt, db, m, CARD_PASSWORD)
    assert still.value.details["retry_after"] == 1
    clock.advance(timedelta(seconds=1))
    assert await _try(rt, db, m, CARD_PASSWORD) == m.person_id


async def test_no_card_password_is_told_in_the_channels_words(
    rt: Runtime, db: AsyncSession
) -> None:
    m = await member(rt, db, card_password=None)
    with pytest.raises(NoCardPassword, match="没有设置"):
        await _try(rt, db, m, CARD_PASSWORD)
    with pytest.raises(NoCardPassword, match="请先设置或改用短信验证码"):
        await identity.step_up_with_card_password(
            rt,
            db,
            session_id="none",
            account_id=m.account_id,
            card_password=CARD_PASSWORD,
            via="cookie",
            client=CLIENT,
        )
    await db.rollback()
    with pytest.raises(NoCardPassword, match="^您还没有设置医保卡密码$"):
        await hotline.identify_caller(rt, db, m.person_id, CARD_PASSWORD, client="call-1")


async def test_failures_at_the_kiosk_and_on_the_phone_line_add_up_to_one_lock(
    rt: Runtime, db: AsyncSession
) -> None:
    m = await member(rt, db)
    await issue_card(db, m)
    key = await register(rt, db)
    await devices.report_card(
        db, rt.cipher, rt.clock, key, present=True, card_no=m.card_no, ssn=m.id_number
    )

    async def at_kiosk(password: str) -> str:
        return await kiosk.identify_with_card(
            rt, db, kiosk_key=key, card_password=password, client="198.51.100.7"
        )

    for left in (4, 3):
        with pytest.raises(CardPasswordRejected, match=f"还可尝试{left}次"):
            await at_kiosk(WRONG)
    # The phone line carries on the kiosk's count, from another address.
    for left in (2, 1):
        with pytest.raises(CardPasswordRejected) as wrong:
            await hotline.identify_caller(rt, db, m.person_id, WRONG, client="call-9")
        assert wrong.value.details["left"] == left
    with pytest.raises(CardPasswordLocked):
        await at_kiosk(WRONG)
    # Locked on every channel, the right password too: the line, the kiosk and the phone's step-up.
    with pytest.raises(CardPasswordLocked):
        await hotline.identify_caller(rt, db, m.person_id, CARD_PASSWORD, client="call-9")
    with pytest.raises(CardPasswordLocked):
        await at_kiosk(CARD_PASSWORD)
    issued = await identity.sign_in_with_password(
        rt, db, m.phone, PASSWORD, via="cookie", client=CLIENT
    )
    with pytest.raises(CardPasswordLocked):
        await identity.step_up_with_card_password(
            rt,
            db,
            session_id=issued.session_id,
            account_id=m.account_id,
            card_password=CARD_PASSWORD,
            via="cookie",
            client=CLIENT,
        )
    events = await _events(db, m.account_id)
    failed = [(channel, detail) for kind, channel, detail in events if kind == "step_up_failed"]
    assert [channel for channel, _ in failed] == ["kiosk", "kiosk", "hotline", "hotline", "kiosk"]
    assert all(d["method"] == "card_password" for _, d in failed)
    assert all(d["kiosk"] == "HALL-01" for c, d in failed if c == "kiosk")
    assert failed[-1][1]["locked_until"] is not None
