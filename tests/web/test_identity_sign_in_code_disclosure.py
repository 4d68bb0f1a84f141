"""Asking for an SMS sign-in code must not tell whether a phone has an online account: through the
API and the pages, 李华's phone and a phone without an account get the same status, Retry-After
and bytes on the first ask, on asking again within the minute and past the daily limit, and
when 李华's phone is busy with another code; only 李华's phone is sent a text."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.addresses import From
from tests.support.identity import Member
from tests.web.identity_client import answered_alike, post_form, texts_queued
from yibao.runtime import Runtime

SENT_PAGE = "如该手机号已开通网上账户，验证码已发送"
TOO_OFTEN = "验证码发送太频繁"
# One address per phone asked about, so the per-address limits stay out of the comparison.
ADDRESSES = ["198.51.100.11", "198.51.100.12"]


@pytest.fixture
def phones(li: Member) -> list[str]:
    """李华's phone, and one without an account that masks the same (139****1234 alike): only the
    middle four digits differ, so even the masked phone in the answer cannot tell them apart."""
    middle = "".join(str((int(digit) + 5) % 10) for digit in li.phone[3:7])
    return [li.phone, li.phone[:3] + middle + li.phone[7:]]


async def _ask(c: httpx.AsyncClient, phone: str) -> httpx.Response:
    return await c.post("/api/v1/auth/sms-codes", json={"phone": phone, "purpose": "sign_in"})


async def test_the_api_answers_alike_with_or_without_an_account(
    session: AsyncSession, from_address: From, phones: list[str]
) -> None:
    before = await texts_queued(session)
    asked, again = [], []
    for address, phone in zip(ADDRESSES, phones, strict=True):
        async with from_address(address) as c:
            asked.append(await _ask(c, phone))
            again.append(await _ask(c, phone))

    status, body = answered_alike(asked, phones)
    assert status == 200 and '"sent_to":"' in body
    status, body = answered_alike(again, phones)  # one a minute per phone typed, account or not
    assert status == 429 and TOO_OFTEN in body
    assert await texts_queued(session) == before + 1  # to 李华's phone only


async def test_the_pages_answer_alike_with_or_without_an_account(
    session: AsyncSession, from_address: From, phones: list[str]
) -> None:
    before = await texts_queued(session)
    asked, again = [], []
    for address, phone in zip(ADDRESSES, phones, strict=True):
        async with from_address(address) as c:
            asked.append(await post_form(c, "/login/code", phone=phone))
            again.append(await post_form(c, "/login/code", phone=phone))

    status, page = answered_alike(asked, phones)
    assert status == 200 and SENT_PAGE in page and 'action="/login/sms"' in page
    status, page = answered_alike(again, phones)
    assert status == 429 and TOO_OFTEN in page
    assert await texts_queued(session) == before + 1


async def test_the_daily_limit_is_told_alike(
    runtime: Runtime, session: AsyncSession, from_address: From, phones: list[str]
) -> None:
    runtime.settings = runtime.settings.model_copy(
        update={"sms_min_interval_seconds": 0, "sms_daily_limit": 2}
    )
    before = await texts_queued(session)
    third = []
    for address, phone in zip(ADDRESSES, phones, strict=True):
        async with from_address(address) as c:
            for _ in range(2):
                assert (await _ask(c, phone)).status_code == 200
            third.append(await _ask(c, phone))
    status, body = answered_alike(third, phones)
    assert status == 429 and "今日获取验证码已达2次上限" in body
    assert await texts_queued(session) == before + 2


async def test_a_phone_busy_with_other_codes_does_not_tell(
    session: AsyncSession, from_address: From, li: Member, phones: list[str]
) -> None:
    """李华's phone was just sent a 找回密码 code, so its own one-a-minute gap refuses a sign-in
    code: the asker is told what anyone is told, and nothing more is sent."""
    async with from_address(ADDRESSES[0]) as c:
        reset = await c.post("/api/v1/auth/password-reset/code", json={"id_number": li.id_number})
        assert reset.is_success
    texts = await texts_queued(session)
    asked = []
    for address, phone in zip(ADDRESSES, phones, strict=True):
        async with from_address(address) as c:
            asked.append(await _ask(c, phone))
    status, body = answered_alike(asked, phones)
    assert status == 200 and '"sent_to":"' in body
    assert await texts_queued(session) == texts
