"""Identity use cases on SQLite and PostgreSQL: registration, sign-in, lockout, codes, step-up,
sessions, card password, staff. Time is a FixedClock so windows can be crossed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.identity import CARD_PASSWORD, CLIENT, PASSWORD, last_code, member
from tests.support.world import define_regions, enrol, new_id_number, new_phone
from yibao.config import Settings
from yibao.enrolment.tables import Person
from yibao.identity import service as identity
from yibao.identity.domain import (
    PASSWORD_REFUSED_MESSAGE,
    AlreadyRegistered,
    CardPasswordRejected,
    CodePurpose,
    CodeRejected,
    RateLimited,
    RealNameCheckFailed,
    RealNameMismatch,
    SignInFailed,
    WeakPassword,
)
from yibao.identity.realname import DevelopmentRealNameProvider, RealNameEvidence
from yibao.identity.tables import OnlineAccount, SecurityEvent, SignInSession
from yibao.kernel.clock import FixedClock
from yibao.kernel.idnumber import InvalidIdNumber, mask_phone
from yibao.notifications.tables import OutboxMessage
from yibao.runtime import Runtime, build_runtime

SEND = {"client": CLIENT, "via": "cookie"}  # who asks for SMS codes, and how


async def _events(db: AsyncSession, account_id: int) -> list[str]:
    await db.rollback()
    rows = await db.execute(
        select(SecurityEvent.kind)
        .where(SecurityEvent.account_id == account_id)
        .order_by(SecurityEvent.id)
    )
    kinds = list(rows.scalars())
    await db.rollback()
    return kinds


async def test_registration_from_phone_to_real_name(rt: Runtime, db: AsyncSession) -> None:
    await define_regions(db)
    id_number, phone = new_id_number(), new_phone()
    await enrol(rt, db, name="赵磊", id_number=id_number, phone=new_phone())

    assert await identity.send_code(rt, db, phone, CodePurpose.REGISTER, **SEND) == mask_phone(
        phone
    )
    code = await last_code(db)
    sms = (await db.execute(select(OutboxMessage))).scalar_one()
    assert sms.phone_enc is not None and phone not in (sms.phone_masked or "")
    # The store keeps a keyed hash of the code, never the code itself.
    from yibao.identity.repository import phone_hash

    stored = await rt.ephemeral.get(f"sms:code:register:{phone_hash(rt.cipher, phone)}")
    assert stored is not None and code not in stored and '"h"' in stored

    with pytest.raises(WeakPassword, match="符号"):
        await identity.start_registration(
            rt, db, phone, code, "abc12345", via="cookie", client=CLIENT
        )
    with pytest.raises(WeakPassword, match="手机号"):
        await identity.start_registration(
            rt, db, phone, code, f"a!{phone}", via="cookie", client=CLIENT
        )
    ticket = await identity.start_registration(
        rt, db, phone, code, "Qing#2026a", via="cookie", client=CLIENT
    )
    with pytest.raises(CodeRejected):  # a code is good once
        await identity.start_registration(
            rt, db, phone, code, "Qing#2026a", via="cookie", client=CLIENT
        )

    provider = DevelopmentRealNameProvider()
    face = RealNameEvidence(method="face")
    bad = id_number[:-1] + ("0" if id_number[-1] != "0" else "1")
    with pytest.raises(InvalidIdNumber, match="校验位"):
        await identity.complete_registration(
            rt, db, provider, ticket=ticket, name="赵磊", id_number=bad, evidence=face, via="cookie"
        )
    with pytest.raises(RealNameMismatch):
        await identity.complete_registration(
            rt,
            db,
            provider,
            ticket=ticket,
            name="赵雷",
            id_number=id_number,
            evidence=face,
            via="cookie",
        )
    with pytest.raises(RealNameCheckFailed, match="照片"):
        await identity.complete_registration(
            rt,
            db,
            provider,
            ticket=ticket,
            name="赵磊",
            id_number=id_number,
            evidence=RealNameEvidence(method="photo"),
            via="cookie",
        )
    issued = await identity.complete_registration(
        rt,
        db,
        provider,
        ticket=ticket,
        name="赵磊",
        id_number=id_number,
        evidence=face,
        via="cookie",
    )
    resolved = await identity.resolve_session(rt, db, issued.token, kind="person")
    assert resolved is not None and resolved.display_name == "赵磊"
    account = (await db.execute(select(OnlineAccount))).scalar_one()
    assert account.password_hash.startswith("$argon2id$")
    assert await _events(db, account.id) == ["registered", "real_name_verified", "sign_in_ok"]
    # One online account per person, one per phone.
    with pytest.raises(AlreadyRegistered):
        await identity.send_code(rt, db, phone, CodePurpose.REGISTER, **SEND)


async def test_password_containing_the_id_number_is_refused_at_real_name(
    rt: Runtime, db: AsyncSession, settings: Settings
) -> None:
    await define_regions(db)
    id_number, phone = new_id_number(), new_phone()
    await enrol(rt, db, name="钱多", id_number=id_number, phone=phone)
    await identity.send_code(rt, db, phone, CodePurpose.REGISTER, **SEND)
    ticket = await identity.start_registration(
        rt, db, phone, await last_code(db), f"x!{id_number}", via="cookie", client=CLIENT
    )
    with pytest.raises(WeakPassword, match="身份证号"):
        await identity.complete_registration(
            rt,
            db,
            DevelopmentRealNameProvider(),
            ticket=ticket,
            name="钱多",
            id_number=id_number,
            evidence=RealNameEvidence("face"),
            via="cookie",
        )
    assert (await db.execute(select(func.count()).select_from(OnlineAccount))).scalar_one() == 0


async def test_sign_in_by_phone_id_number_or_card(rt: Runtime, db: AsyncSession) -> None:
    m = await member(rt, db)
    person = await db.get(Person, m.person_id)
    assert person is not None
    person.card_no = "A31009999"
    await db.commit()
    for identifier in (m.phone, m.id_number, m.id_number.lower(), "A31009999"):
        issued = await identity.sign_in_with_password(
            rt, db, identifier, PASSWORD, via="cookie", client=CLIENT
        )
        assert issued.token
    with pytest.raises(SignInFailed) as unknown:
        await identity.sign_in_with_password(
            rt, db, "13900000000", PASSWORD, via="cookie", client=CLIENT
        )
    with pytest.raises(SignInFailed) as wrong:
        await identity.sign_in_with_password(
            rt, db, m.phone, "Wrong@2026", via="cookie", client=CLIENT
        )
    # No account probing: the same words for an unknown phone and a wrong password.
    assert unknown.value.message == wrong.value.message == PASSWORD_REFUSED_MESSAGE


async def test_five_wrong_passwords_in_the_window_hold_back_for_thirty_minutes(
    rt: Runtime, db: AsyncSession, clock: FixedClock
) -> None:
    m = await member(rt, db)
    for _ in range(5):
        with pytest.raises(SignInFailed, match=PASSWORD_REFUSED_MESSAGE):
            await identity.sign_in_with_password(
                rt, db, m.phone, "Wrong@1", via="cookie", client=CLIENT
            )
        clock.advance(timedelta(minutes=3))
    # Held back (from untrusted devices): even the right password is refused, in the same words.
    with pytest.raises(SignInFailed, match=PASSWORD_REFUSED_MESSAGE):
        await identity.sign_in_with_password(rt, db, m.phone, PASSWORD, via="cookie", client=CLIENT)
    clock.advance(timedelta(minutes=26, seconds=59))
    with pytest.raises(SignInFailed):
        await identity.sign_in_with_password(rt, db, m.phone, PASSWORD, via="cookie", client=CLIENT)
    clock.advance(timedelta(seconds=1))
    assert await identity.sign_in_with_password(
        rt, db, m.phone, PASSWORD, via="cookie", client=CLIENT
    )
    events = await _events(db, m.account_id)
    assert events.count("sign_in_failed") == 5 and "locked" in events


async def test_failures_spread_beyond_the_window_do_not_lock(
    rt: Runtime, db: AsyncSession, clock: FixedClock
) -> None:
    m = await member(rt, db)
    for _ in range(8):
        with pytest.raises(SignInFailed):
            await identity.sign_in_with_password(
                rt, db, m.phone, "Wrong@1", via="cookie", client=CLIENT
            )
        clock.advance(timedelta(minutes=4))
    assert await identity.sign_in_with_password(
        rt, db, m.phone, PASSWORD, via="cookie", client=CLIENT
    )


async def test_reset_with_id_number_and_code_unlocks(rt: Runtime, db: AsyncSession) -> None:
    m = await member(rt, db)
    old = await identity.sign_in_with_password(
        rt, db, m.phone, PASSWORD, via="cookie", client=CLIENT
    )
    for _ in range(5):
        with pytest.raises(SignInFailed):
            await identity.sign_in_with_password(
                rt, db, m.id_number, "Wrong@1", via="cookie", client=CLIENT
            )
    assert "验证码已发送至" in await identity.send_reset_code(rt, db, m.id_number, **SEND)
    code = await last_code(db)
    # Refused for its phone only once the code is proven (before, that would tell an asker the
    # account exists); the code stays usable for a better password.
    for weak in ["short", f"P#{m.phone}"]:
        with pytest.raises(WeakPassword):
            await identity.reset_password(
                rt,
                db,
                id_number=m.id_number,
                code=code,
                new_password=weak,
                via="cookie",
                client=CLIENT,
            )
    await identity.reset_password(
        rt,
        db,
        id_number=m.id_number,
        code=code,
        new_password="New#pass2026",
        via="cookie",
        client=CLIENT,
    )
    assert await identity.sign_in_with_password(
        rt, db, m.id_number, "New#pass2026", via="cookie", client=CLIENT
    )
    # The old session ended with the reset.
    assert await identity.resolve_session(rt, db, old.token, kind="person") is None
    assert "password_reset" in await _events(db, m.account_id)


async def test_sms_codes_expire_allow_five_tries_and_are_rate_limited(
    rt: Runtime, db: AsyncSession, clock: FixedClock, settings: Settings
) -> None:
    m = await member(rt, db)
    await identity.send_code(rt, db, m.phone, CodePurpose.SIGN_IN, **SEND)
    with pytest.raises(RateLimited, match="60秒"):
        await identity.send_code(rt, db, m.phone, CodePurpose.SIGN_IN, **SEND)
    code = await last_code(db)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        with pytest.raises(CodeRejected, match=f"还可尝试{left}次"):
            await identity.sign_in_with_code(rt, db, m.phone, wrong, via="cookie", client=CLIENT)
    with pytest.raises(CodeRejected, match="次数过多"):
        await identity.sign_in_with_code(rt, db, m.phone, wrong, via="cookie", client=CLIENT)
    with pytest.raises(CodeRejected, match="失效"):  # the fifth wrong try voided the code
        await identity.sign_in_with_code(rt, db, m.phone, code, via="cookie", client=CLIENT)

    # Expiry is judged by the clock: five minutes.
    await db.rollback()  # a second runtime writes to the same SQLite file
    fast = build_runtime(settings.model_copy(update={"sms_min_interval_seconds": 0}), clock=clock)
    try:
        async with fast.sessions() as s:
            await identity.send_code(fast, s, m.phone, CodePurpose.SIGN_IN, **SEND)
            clock.advance(timedelta(minutes=5, seconds=1))
            with pytest.raises(CodeRejected, match="过期"):
                await identity.sign_in_with_code(
                    fast, s, m.phone, await last_code(s), via="cookie", client=CLIENT
                )
            await identity.send_code(fast, s, m.phone, CodePurpose.SIGN_IN, **SEND)
            assert await identity.sign_in_with_code(
                fast, s, m.phone, await last_code(s), via="cookie", client=CLIENT
            )
            # Ten a day per phone: three were sent already today.
            for _ in range(7):
                await identity.send_code(fast, s, m.phone, CodePurpose.SIGN_IN, **SEND)
            with pytest.raises(RateLimited, match="10次"):
                await identity.send_code(fast, s, m.phone, CodePurpose.SIGN_IN, **SEND)
    finally:
        await fast.close()


async def test_sms_sign_in_to_an_unknown_phone_sends_nothing_and_says_nothing(
    rt: Runtime, db: AsyncSession
) -> None:
    phone = new_phone()
    assert await identity.send_code(rt, db, phone, CodePurpose.SIGN_IN, **SEND) == mask_phone(phone)
    assert (await db.execute(select(func.count()).select_from(OutboxMessage))).scalar_one() == 0
    with pytest.raises(CodeRejected, match="失效"):
        await identity.sign_in_with_code(rt, db, phone, "123456", via="cookie", client=CLIENT)


async def test_step_up_holds_ten_minutes_on_that_session_only(
    rt: Runtime, db: AsyncSession, clock: FixedClock
) -> None:
    m = await member(rt, db)
    first = await identity.sign_in_with_password(
        rt, db, m.phone, PASSWORD, via="cookie", client=CLIENT
    )
    second = await identity.sign_in_with_password(
        rt, db, m.phone, PASSWORD, via="bearer", client=CLIENT
    )
    a = await identity.resolve_session(rt, db, first.token, kind="person")
    assert a is not None and a.step_up_until is None
    with pytest.raises(CardPasswordRejected, match="还可尝试4次"):
        await identity.step_up_with_card_password(
            rt,
            db,
            session_id=a.session_id,
            account_id=m.account_id,
            card_password="000000",
            via="cookie",
            client=CLIENT,
        )
    await identity.step_up_with_card_password(
        rt,
        db,
        session_id=a.session_id,
        account_id=m.account_id,
        card_password=CARD_PASSWORD,
        via="cookie",
        client=CLIENT,
    )
    a = await identity.resolve_session(rt, db, first.token, kind="person")
    b = await identity.resolve_session(rt, db, second.token, kind="person")
    assert a is not None and a.step_up_until == clock.now() + timedelta(minutes=10)
    assert b is not None and b.step_up_until is None

    await identity.send_code_to_account(rt, db, m.account_id, CodePurpose.STEP_UP, **SEND)
    await identity.step_up_with_code(
        rt,
        db,
        session_id=b.session_id,
        account_id=m.account_id,
        code=await last_code(db),
        via="bearer",
        client=CLIENT,
    )
    b = await identity.resolve_session(rt, db, second.token, kind="person")
    assert b is not None and b.step_up_until is not None


async def test_card_password_set_with_id_number_and_code(rt: Runtime, db: AsyncSession) -> None:
    m = await member(rt, db, card_password=None)
    issued = await identity.sign_in_with_password(
        rt, db, m.phone, PASSWORD, via="cookie", client=CLIENT
    )
    with pytest.raises(CardPasswordRejected, match="还没有设置"):
        await identity.step_up_with_card_password(
            rt,
            db,
            session_id=issued.session_id,
            account_id=m.account_id,
            card_password="246810",
            via="cookie",
            client=CLIENT,
        )
    await identity.send_code_to_account(rt, db, m.account_id, CodePurpose.CARD_PASSWORD, **SEND)
    code = await last_code(db)
    with pytest.raises(RealNameMismatch):
        await identity.set_card_password(
            rt,
            db,
            account_id=m.account_id,
            id_number=new_id_number(),
            code=code,
            card_password="246810",
            via="cookie",
            client=CLIENT,
        )
    await identity.set_card_password(
        rt,
        db,
        account_id=m.account_id,
        id_number=m.id_number,
        code=code,
        card_password="246810",
        via="cookie",
        client=CLIENT,
    )
    await identity.step_up_with_card_password(
        rt,
        db,
        session_id=issued.session_id,
        account_id=m.account_id,
        card_password="246810",
        via="cookie",
        client=CLIENT,
    )


async def test_idle_timeout_and_sign_out_everywhere(
    rt: Runtime, db: AsyncSession, clock: FixedClock
) -> None:
    m = await member(rt, db)
    one = await identity.sign_in_with_password(
        rt, db, m.phone, PASSWORD, via="cookie", client=CLIENT
    )
    two = await identity.sign_in_with_password(
        rt, db, m.phone, PASSWORD, via="bearer", client=CLIENT
    )
    clock.advance(timedelta(minutes=14))
    assert await identity.resolve_session(rt, db, one.token, kind="person") is not None
    clock.advance(timedelta(minutes=14))  # used 14 minutes ago: still alive
    assert await identity.resolve_session(rt, db, one.token, kind="person") is not None
    # `two` was idle for 28 minutes.
    assert await identity.resolve_session(rt, db, two.token, kind="person") is None
    three = await identity.sign_in_with_password(
        rt, db, m.phone, PASSWORD, via="bearer", client=CLIENT
    )
    assert await identity.sign_out_everywhere(rt, db, m.account_id, via="cookie") == 2
    for issued in (one, three):
        assert await identity.resolve_session(rt, db, issued.token, kind="person") is None
    rows = (await db.execute(select(SignInSession))).scalars().all()
    assert all(r.ended_at is not None for r in rows)
    assert await identity.resolve_session(rt, db, "forged-token", kind="person") is None


async def test_staff_sign_in_needs_password_and_a_fresh_totp(
    rt: Runtime, db: AsyncSession, clock: FixedClock
) -> None:
    staff, secret = await identity.create_staff(
        rt,
        db,
        username="Zhang.Wei",
        name="张伟",
        password="Staff@2026",
        roles=["clerk"],
        office="徐汇医保中心",
    )
    assert staff.username == "zhang.wei" and staff.roles == "clerk"
    totp = pyotp.TOTP(secret)
    code = totp.at(clock.now())
    with pytest.raises(SignInFailed):
        await identity.staff_sign_in(
            rt,
            db,
            username="zhang.wei",
            password="Staff@2026",
            totp_code="000000" if code != "000000" else "111111",
            client=CLIENT,
        )
    issued = await identity.staff_sign_in(
        rt, db, username="zhang.wei", password="Staff@2026", totp_code=code, client=CLIENT
    )
    resolved = await identity.resolve_session(rt, db, issued.token, kind="staff")
    assert resolved is not None and resolved.roles == frozenset({"clerk"})
    # A staff session is never a person's.
    assert await identity.resolve_session(rt, db, issued.token, kind="person") is None
    with pytest.raises(SignInFailed):  # the same code cannot be replayed
        await identity.staff_sign_in(
            rt, db, username="zhang.wei", password="Staff@2026", totp_code=code, client=CLIENT
        )


async def test_unlock_by_staff(rt: Runtime, db: AsyncSession) -> None:
    m = await member(rt, db)
    for _ in range(5):
        with pytest.raises(SignInFailed):
            await identity.sign_in_with_password(
                rt, db, m.phone, "Wrong@1", via="cookie", client=CLIENT
            )
    assert await identity.unlock_account(rt, db, m.id_number, by="clerk") == mask_phone(m.phone)
    assert await identity.sign_in_with_password(
        rt, db, m.phone, PASSWORD, via="cookie", client=CLIENT
    )
    assert "unlocked" in await _events(db, m.account_id)


async def test_anothers_passkey_cannot_step_up_my_session(rt: Runtime, db: AsyncSession) -> None:
    import json

    from yibao.identity.domain import PasskeyRejected
    from yibao.identity.passkeys import RelyingParty
    from yibao.identity.tables import Passkey

    a = await member(rt, db, name="甲")
    b = await member(rt, db, name="乙", with_regions=False)
    for who, cred in ((a, "YWFhYQ"), (b, "YmJiYg")):
        db.add(
            Passkey(
                account_id=who.account_id,
                credential_id=cred,
                public_key=b"\x01",
                sign_count=0,
                name="k",
                created_at=datetime.now(UTC),
            )
        )
    await db.commit()
    rp = RelyingParty(rp_id="localhost", name="t", origin="http://localhost")
    issued = await identity.sign_in_with_password(
        rt, db, a.phone, PASSWORD, via="cookie", client=CLIENT
    )
    options, flow = await identity.passkey_options(
        rt, db, rp, purpose="step_up", account_id=a.account_id
    )
    assert json.loads(options)["allowCredentials"] == [{"id": "YWFhYQ", "type": "public-key"}]
    with pytest.raises(PasskeyRejected, match="未登记"):
        await identity.step_up_with_passkey(
            rt,
            db,
            rp,
            session_id=issued.session_id,
            account_id=a.account_id,
            flow=flow,
            credential=json.dumps({"id": "YmJiYg", "rawId": "YmJiYg", "type": "public-key"}),
            via="cookie",
        )
    # A challenge is good once, and only for the account it was made for.
    with pytest.raises(PasskeyRejected, match="超时"):
        await identity.step_up_with_passkey(
            rt,
            db,
            rp,
            session_id=issued.session_id,
            account_id=a.account_id,
            flow=flow,
            credential="{}",
            via="cookie",
        )
    _, other_flow = await identity.passkey_options(
        rt, db, rp, purpose="step_up", account_id=b.account_id
    )
    with pytest.raises(PasskeyRejected, match="无效"):
        await identity.step_up_with_passkey(
            rt,
            db,
            rp,
            session_id=issued.session_id,
            account_id=a.account_id,
            flow=other_flow,
            credential="{}",
            via="cookie",
        )
    row = await db.get(SignInSession, issued.session_id)
    assert row is not None and row.step_up_until is None


async def test_a_session_cannot_be_stepped_up_for_another_account(
    rt: Runtime, db: AsyncSession
) -> None:
    from yibao.identity.domain import UnknownAccount

    a = await member(rt, db, name="甲")
    b = await member(rt, db, name="乙", with_regions=False)
    a_session = await identity.sign_in_with_password(
        rt, db, a.phone, PASSWORD, via="cookie", client=CLIENT
    )
    # B's card password must not unlock A's session, nor A's session accept B's verification.
    with pytest.raises(UnknownAccount):
        await identity.step_up_with_card_password(
            rt,
            db,
            session_id=a_session.session_id,
            account_id=b.account_id,
            card_password=CARD_PASSWORD,
            via="cookie",
            client=CLIENT,
        )
    await db.rollback()
    row = await db.get(SignInSession, a_session.session_id)
    assert row is not None and row.step_up_until is None
