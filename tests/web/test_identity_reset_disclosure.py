"""找回密码 must not tell whether an ID number has an online account: through the API and the pages,
an ID number with an account, one enrolled without an account and one never enrolled get the
same status and the same words at every step (asking for a code, asking again too soon, a wrong
code), and only the account's phone is sent a text."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.addresses import From
from tests.support.identity import Member
from tests.support.world import enrol, new_id_number
from tests.web.identity_client import answered_alike, post_form, texts_queued
from yibao.runtime import Runtime

SENT = "如该证件号已开通网上账户，验证码已发送至其预留手机号"
REJECTED = "验证码错误或已过期"
# One address per ID number asked about, so the per-address limits stay out of the comparison.
ADDRESSES = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]


@pytest.fixture
async def id_numbers(runtime: Runtime, session: AsyncSession, li: Member) -> list[str]:
    """李华's (an account), an enrolled person's without one, and one never enrolled."""
    enrolled = new_id_number()
    await enrol(runtime, session, name="赵敏", id_number=enrolled)
    await session.commit()
    return [li.id_number, enrolled, new_id_number()]


async def test_the_api_answers_alike_with_or_without_an_account(
    session: AsyncSession, from_address: From, li: Member, id_numbers: list[str]
) -> None:
    before = await texts_queued(session)
    asked, again, wrong, with_phone = [], [], [], []
    for address, id_number in zip(ADDRESSES, id_numbers, strict=True):
        async with from_address(address) as c:
            ask = {"id_number": id_number}
            asked.append(await c.post("/api/v1/auth/password-reset/code", json=ask))
            again.append(await c.post("/api/v1/auth/password-reset/code", json=ask))
            reset = {"id_number": id_number, "code": "000000", "new_password": "Fresh#2026"}
            wrong.append(await c.post("/api/v1/auth/password-reset", json=reset))
            # A password with the account's phone in it is refused only once the code is right:
            # before, the refusal would tell the account exists and probe its phone's digits.
            reset["new_password"] = f"P#{li.phone}"
            with_phone.append(await c.post("/api/v1/auth/password-reset", json=reset))

    assert answered_alike(asked, id_numbers) == (200, f'{{"message":"{SENT}"}}')
    status, body = answered_alike(again, id_numbers)  # one a minute per ID number, account or not
    assert status == 429 and "验证码发送太频繁" in body
    rejected = f'{{"error":{{"code":"code_rejected","message":"{REJECTED}"}}}}'
    assert answered_alike(wrong, id_numbers) == (422, rejected)
    assert answered_alike(with_phone, id_numbers) == (422, rejected)
    assert await texts_queued(session) == before + 1  # to 李华's phone only


async def test_the_pages_answer_alike_with_or_without_an_account(
    session: AsyncSession, from_address: From, li: Member, id_numbers: list[str]
) -> None:
    before = await texts_queued(session)
    asked, again, wrong = [], [], []
    for address, id_number in zip(ADDRESSES, id_numbers, strict=True):
        async with from_address(address) as c:
            asked.append(await post_form(c, "/forgot/code", id_number=id_number))
            again.append(await post_form(c, "/forgot/code", id_number=id_number))
            reset = {"code": "000000", "password": "Fresh#2026", "password2": "Fresh#2026"}
            wrong.append(await post_form(c, "/forgot", id_number=id_number, **reset))

    status, page = answered_alike(asked, id_numbers)
    assert status == 200 and SENT in page and 'action="/forgot"' in page  # the same next step
    status, page = answered_alike(again, id_numbers)
    assert status == 429 and "验证码发送太频繁" in page
    status, page = answered_alike(wrong, id_numbers)
    assert status == 422 and REJECTED in page and 'action="/forgot"' in page
    assert await texts_queued(session) == before + 1


async def test_a_phone_busy_with_other_codes_does_not_tell(
    session: AsyncSession, from_address: From, li: Member, id_numbers: list[str]
) -> None:
    """李华's phone was just sent a sign-in code, so its own one-a-minute gap refuses a reset
    code: the asker is told what anyone is told, and nothing more is sent."""
    async with from_address(ADDRESSES[0]) as c:
        sign_in = await c.post(
            "/api/v1/auth/sms-codes", json={"phone": li.phone, "purpose": "sign_in"}
        )
        assert sign_in.is_success
    texts = await texts_queued(session)
    asked = []
    for address, id_number in zip(ADDRESSES, id_numbers, strict=True):
        async with from_address(address) as c:
            ask = {"id_number": id_number}
            asked.append(await c.post("/api/v1/auth/password-reset/code", json=ask))
    assert answered_alike(asked, id_numbers) == (200, f'{{"message":"{SENT}"}}')
    assert await texts_queued(session) == texts


async def test_every_failed_reset_counts_against_the_address(
    runtime: Runtime, from_address: From, li: Member, id_numbers: list[str]
) -> None:
    """A reset for an ID number without an account fails like a wrong code, so it spends the
    address's failures alike: counting only real accounts would let the budget tell them."""
    runtime.settings = runtime.settings.model_copy(update={"address_max_failures": 3})
    async with from_address(ADDRESSES[0]) as c:
        for id_number in id_numbers:
            reset = {"id_number": id_number, "code": "000000", "new_password": "Fresh#2026"}
            failed = await c.post("/api/v1/auth/password-reset", json=reset)
            assert failed.status_code == 422, failed.text
        refused = await c.post("/api/v1/auth/password-reset", json=reset)
        assert refused.status_code == 429 and refused.headers["retry-after"] == "450"
