"""Every sign-in renews the CSRF token (issue #24, item 15): a token planted in the browser before
sign-in (a shared computer, a cookie written by a sibling site) is useless once signed in."""

from __future__ import annotations

import httpx
import pyotp
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.identity import PASSWORD, Member, member
from tests.web.identity_client import csrf_token
from yibao.identity import service as identity
from yibao.runtime import Runtime


async def _signed_in_with_known_token(
    client: httpx.AsyncClient, url: str, **fields: str
) -> tuple[httpx.Response, str]:
    """Sign in with the token the browser held before: the one someone else planted or read."""
    planted = await csrf_token(client)
    answer = await client.post(url, data={"csrf_token": planted, **fields})
    assert answer.status_code == 303, answer.text
    return answer, planted


async def test_a_person_signing_in_gets_a_new_csrf_token(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    li: Member = await member(runtime, session, name="李华")
    signed_in, planted = await _signed_in_with_known_token(
        client, "/login", identifier=li.phone, password=PASSWORD
    )
    renewed = client.cookies["yibao_csrf"]
    assert renewed != planted
    assert sum(c.startswith("yibao_csrf=") for c in signed_in.headers.get_list("set-cookie")) == 1

    # A forged form carrying the planted token no longer passes: the browser now sends the new one.
    forged = await client.post("/logout/everywhere", data={"csrf_token": planted})
    assert forged.status_code == 403
    assert (await client.get("/passkeys")).status_code == 200  # still signed in
    honest = await client.post("/logout", data={"csrf_token": renewed})
    assert honest.status_code == 303


async def test_staff_signing_in_get_a_new_csrf_token(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    _, secret = await identity.create_staff(
        runtime,
        session,
        username="clerk7",
        name="王晓红",
        password="Staff@2026",
        roles=["clerk"],
        office="徐汇医保中心",
    )
    fields = {"username": "clerk7", "password": "Staff@2026", "totp": pyotp.TOTP(secret).now()}
    _, planted = await _signed_in_with_known_token(client, "/staff/login", **fields)
    renewed = client.cookies["yibao_csrf"]
    assert renewed != planted
    forged = await client.post("/staff/logout", data={"csrf_token": planted})
    assert forged.status_code == 403
    assert (await client.get("/staff")).status_code == 200
