"""Fixtures shared by the web tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.addresses import AT, From, clients_from
from tests.support.identity import Member, member
from tests.support.principals import install_test_principals, with_csrf
from yibao.kernel.clock import FixedClock
from yibao.runtime import Runtime


@pytest.fixture
async def li(runtime: Runtime, session: AsyncSession) -> Member:
    """李华, with the runtime's clock at `AT` (the address limits' tests move it)."""
    runtime.clock = FixedClock(AT)
    return await member(runtime, session, name="李华")


@pytest.fixture
def from_address(runtime: Runtime) -> From:
    return clients_from(runtime)


@pytest.fixture
async def web(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the test principals (person and staff headers) and the CSRF token set."""
    from yibao.web.app import create_app

    app = create_app(runtime=runtime)
    install_test_principals(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield with_csrf(c)
