"""FastAPI dependencies: the process's Runtime and one session per request (one use case).

Both are `async def`: FastAPI runs a plain `def` dependency in a worker thread. When the identity
middleware has already opened a session to check the caller's (web/sessions.py), the route gets
that one: one pooled connection per request, not two in a row.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.runtime import Runtime

REQUEST_SESSION = "yibao_db_session"  # key in the ASGI scope's state


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    shared: AsyncSession | None = request.scope.get("state", {}).get(REQUEST_SESSION)
    if shared is not None:
        yield shared  # the middleware closes it when the response is sent
        return
    runtime: Runtime = request.app.state.runtime
    async with runtime.sessions() as session:
        yield session


async def client_address(request: Request) -> str:
    """The caller's network address for the per-address sign-in limit: the TCP peer, or the
    address a trusted proxy forwarded. Which proxies are trusted is uvicorn's decision
    (`--proxy-headers`, `--forwarded-allow-ips`), made before the request gets here; reading
    X-Forwarded-For here would let any client name its own address."""
    return request.client.host if request.client is not None else ""


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
ClientDep = Annotated[str, Depends(client_address)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
