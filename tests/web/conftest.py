"""Fixtures shared by the web tests."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.addresses import AT, From, clients_from
from tests.support.identity import Member, member
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
