"""Helpers for identity's HTTP tests: the CSRF token and form posts as a browser sends them, and
the checks that answers tell nothing about whether an account exists."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.notifications.tables import OutboxMessage

_HIDDEN = re.compile(r'name="(?P<name>[a-z_]+)" value="(?P<value>[^"]*)"')


async def csrf_token(client: httpx.AsyncClient) -> str:
    if "yibao_csrf" not in client.cookies:
        await client.get("/login")
    return str(client.cookies["yibao_csrf"])


async def post_form(client: httpx.AsyncClient, url: str, **fields: str) -> httpx.Response:
    data = {"csrf_token": await csrf_token(client), **fields}
    return await client.post(url, data=data)


def hidden(html: str, name: str) -> str:
    for match in _HIDDEN.finditer(html):
        if match.group("name") == name:
            return match.group("value")
    raise AssertionError(f"no hidden field {name}")


def answered_alike(answers: list[httpx.Response], typed: list[str]) -> tuple[int, str]:
    """Status, `Retry-After` and body of every answer, equal byte for byte once the client's CSRF
    token and what it typed (an ID number or a phone, echoed back in the form) are blanked."""
    seen = set()
    for answer, value in zip(answers, typed, strict=True):
        body = answer.text.replace(value, "<typed>")
        csrf = answer.request.headers.get("cookie", "").partition("yibao_csrf=")[2]
        if csrf:
            body = body.replace(csrf.split(";")[0], "<csrf>")
        seen.add((answer.status_code, answer.headers.get("retry-after"), body))
    assert len(seen) == 1, seen
    status, _, body = seen.pop()
    return status, body


async def texts_queued(session: AsyncSession) -> int:
    """SMS in the outbox so far (every text sent goes through it)."""
    await session.rollback()
    stmt = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.channel == "sms")
    count = int((await session.execute(stmt)).scalar_one())
    await session.rollback()
    return count
