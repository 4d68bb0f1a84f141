"""The limit on failed checks per client address (credential stuffing: one client, many accounts,
one wrong password each), on SQLite and PostgreSQL. Time is a FixedClock so stretches can end."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.identity import PASSWORD, last_code, member
from tests.support.world import new_phone
from yibao.config import Settings
from yibao.identity import service as identity
from yibao.identity.domain import (
    CardPasswordRejected,
    CodePurpose,
    CodeRejected,
    RateLimited,
    SignInFailed,
)
from yibao.identity.tables import SecurityEvent
from yibao.kernel.clock import FixedClock
from yibao.runtime import Runtime, build_runtime

STUFFER = "203.0.113.7"
NEIGHBOUR = "198.51.100.20"
# 10:07:30 in Beijing: inside the 10:00–10:15 stretch.
AT = datetime(2026, 11, 25, 2, 7, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(AT)


async def _events(db: AsyncSession, kind: str) -> list[tuple[str, int | None, str]]:
    """(channel, account id, detail) of each event of that kind."""
    await db.rollback()
    rows = await db.execute(
        select(SecurityEvent.channel, SecurityEvent.account_id, SecurityEvent.detail).where(
            SecurityEvent.kind == kind
        )
    )
    events = [(r.channel, r.account_id, r.detail) for r in rows]
    await db.rollback()
    return events


async def test_many_accounts_once_each_then_even_the_right_password_waits(
    rt: Runtime, db: AsyncSession, clock: FixedClock
) -> None:
    """The defaults (30 per 15 minutes): no account is tried often enough to lock, yet the 31st
    try from the address is refused, with when to come back; another address is not."""
    a = await member(rt, db, name="甲一")
    b = await member(rt, db, name="乙二", with_regions=False)
    tried = [a.phone, a.id_number, b.phone, b.id_number, *(new_phone() for _ in range(26))]
    for identifier in tried:
        with pytest.raises(SignInFailed):
            await identity.sign_in_with_password(
                rt, db, identifier, "Guess@2026", via="bearer", client=STUFFER
            )
    with pytest.raises(RateLimited, match="请于 2026-11-25 10:15 后再试") as refused:
        await identity.sign_in_with_password(
            rt, db, a.phone, PASSWORD, via="bearer", client=STUFFER
        )
    assert refused.value.details["retry_after"] == 450
    assert refused.value.details["until"] == AT + timedelta(seconds=450)
    # Another address — the neighbour's phone on another network — signs in as usual.
    assert await identity.sign_in_with_password(
        rt, db, a.phone, PASSWORD, via="bearer", client=NEIGHBOUR
    )

    # The address was recorded once; the refused try wrote nothing and cost no account a failure.
    ((channel, account_id, detail),) = await _events(db, "address_throttled")
    assert channel == "bearer" and account_id is None
    assert json.loads(detail) == {
        "client": STUFFER,
        "failures": 30,
        "until": str(AT + timedelta(seconds=450)),
    }
    assert len(await _events(db, "sign_in_failed")) == 4

    clock.advance(timedelta(seconds=449))
    with pytest.raises(RateLimited, match="后再试"):
        await identity.sign_in_with_password(
            rt, db, a.phone, PASSWORD, via="bearer", client=STUFFER
        )
    clock.advance(timedelta(seconds=1))  # 10:15: a new stretch
    assert await identity.sign_in_with_password(
        rt, db, a.phone, PASSWORD, via="bearer", client=STUFFER
    )


async def test_every_check_of_a_secret_counts_and_is_refused(
    settings: Settings, clock: FixedClock
) -> None:
    """Wrong SMS codes (sign-in, step-up, reset), card passwords and staff passwords count alike;
    then each of those checks is refused from that address, whatever the secret."""
    rt = build_runtime(settings.model_copy(update={"address_max_failures": 5}), clock=clock)
    try:
        async with rt.sessions() as db:
            await _every_check(rt, db)
    finally:
        await rt.close()


async def _every_check(rt: Runtime, db: AsyncSession) -> None:
    m = await member(rt, db)
    _, secret = await identity.create_staff(
        rt, db, username="clerk9", name="周经办", password="Staff@2026", roles=["clerk"], office="x"
    )
    signed_in = await identity.sign_in_with_password(
        rt, db, m.phone, PASSWORD, via="cookie", client=STUFFER
    )
    person: dict[str, Any] = {"session_id": signed_in.session_id, "account_id": m.account_id}
    person |= {"via": "cookie", "client": STUFFER}
    await identity.send_code(rt, db, m.phone, CodePurpose.SIGN_IN, client=STUFFER, via="cookie")
    code = await last_code(db)
    wrong = "000000" if code != "000000" else "111111"

    with pytest.raises(CodeRejected):
        await identity.sign_in_with_code(rt, db, m.phone, wrong, via="cookie", client=STUFFER)
    with pytest.raises(CardPasswordRejected):
        await identity.step_up_with_card_password(rt, db, card_password="999999", **person)
    with pytest.raises(CodeRejected):  # no step-up code was sent: refused like a wrong one
        await identity.step_up_with_code(rt, db, code=wrong, **person)
    with pytest.raises(CodeRejected):
        await identity.reset_password(
            rt,
            db,
            id_number=m.id_number,
            code=wrong,
            new_password="New#pass2026",
            via="cookie",
            client=STUFFER,
        )
    with pytest.raises(SignInFailed):
        await identity.staff_sign_in(
            rt, db, username="clerk9", password="Wrong@2026", totp_code="000000", client=STUFFER
        )

    refusals = [
        identity.sign_in_with_password(rt, db, m.phone, PASSWORD, via="cookie", client=STUFFER),
        identity.sign_in_with_code(rt, db, m.phone, code, via="cookie", client=STUFFER),
        identity.step_up_with_card_password(rt, db, card_password="135790", **person),
        identity.step_up_with_code(rt, db, code=code, **person),
        identity.reset_password(
            rt,
            db,
            id_number=m.id_number,
            code=code,
            new_password="New#pass2026",
            via="cookie",
            client=STUFFER,
        ),
        identity.set_card_password(
            rt,
            db,
            account_id=m.account_id,
            id_number=m.id_number,
            code=code,
            card_password="246810",
            via="cookie",
            client=STUFFER,
        ),
        identity.start_registration(
            rt, db, new_phone(), code, "Qing#2026a", via="cookie", client=STUFFER
        ),
        identity.staff_sign_in(
            rt,
            db,
            username="clerk9",
            password="Staff@2026",
            totp_code=pyotp.TOTP(secret).at(AT),
            client=STUFFER,
        ),
    ]
    for attempt in refusals:
        with pytest.raises(RateLimited, match="10:15 后再试"):
            await attempt
    # The code was never consumed by the refused tries: it still works from elsewhere.
    assert await identity.sign_in_with_code(rt, db, m.phone, code, via="cookie", client=NEIGHBOUR)
    ((channel, _, _),) = await _events(db, "address_throttled")
    assert channel == "staff"  # the fifth failure was the staff sign-in


async def test_failures_racing_from_two_processes_all_count(
    settings: Settings, clock: FixedClock
) -> None:
    """Two server processes (two runtimes over one database and its short-lived store) take
    failures from one address at once: every one counts, and one of them records the address."""
    limited = settings.model_copy(update={"address_max_failures": 12})
    first, second = build_runtime(limited, clock=clock), build_runtime(limited, clock=clock)

    async def guess(rt: Runtime) -> None:
        async with rt.sessions() as s:
            with pytest.raises(SignInFailed):
                await identity.sign_in_with_password(
                    rt, s, new_phone(), "Guess@2026", via="bearer", client=STUFFER
                )

    try:
        await asyncio.gather(*(guess(rt) for rt in (first, second) * 6))
        for rt in (first, second):
            async with rt.sessions() as s:
                with pytest.raises(RateLimited):
                    await identity.sign_in_with_password(
                        rt, s, new_phone(), "Guess@2026", via="bearer", client=STUFFER
                    )
        async with first.sessions() as s:
            assert len(await _events(s, "address_throttled")) == 1
    finally:
        await first.close()
        await second.close()
