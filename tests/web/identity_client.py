"""Helpers for identity's HTTP tests: the CSRF token and form posts as a browser sends them."""

from __future__ import annotations

import re

import httpx

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
