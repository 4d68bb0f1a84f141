"""Talking to the app from a chosen client address (the per-address sign-in and SMS limits)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime

import httpx

from yibao.runtime import Runtime
from yibao.web.app import create_app

# 10:07:30 in Beijing: the limits' 15-minute stretch ends at 10:15.
AT = datetime(2026, 11, 25, 2, 7, 30, tzinfo=UTC)

From = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


def clients_from(runtime: Runtime) -> From:
    """`connect(address)`: a client of the app whose requests come from `address` (the ASGI
    scope's client)."""
    app = create_app(runtime=runtime)

    @asynccontextmanager
    async def connect(address: str) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c

    return connect
