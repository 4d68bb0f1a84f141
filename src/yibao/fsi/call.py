"""What a transaction's handler receives, and what it gives back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.fsi.envelope import Envelope, Fields
from yibao.runtime import Runtime
from yibao.settlement.domain import Caller


@dataclass
class Call:
    runtime: Runtime
    session: AsyncSession
    caller: Caller
    envelope: Envelope

    def data(self) -> Fields:
        """`input.data`, the wrapping of most transactions."""
        return Fields(self.envelope.input.get("data"), "input.data")

    def input(self) -> Fields:
        return Fields(self.envelope.input, "input")


@dataclass
class Reply:
    output: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


Handler = Callable[[Call], Awaitable[Reply]]
