"""What a transaction's handler receives and gives back, what answers a retried msgid whose
answer was a file, and what 2601 asks of a transaction it reverses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.fsi.envelope import Envelope, Fields
from yibao.runtime import Runtime
from yibao.settlement.domain import Caller

if TYPE_CHECKING:
    from yibao.fsi.transactions import Transaction


@dataclass
class Call:
    runtime: Runtime
    session: AsyncSession
    caller: Caller
    envelope: Envelope
    # The table the message was routed by: 2601 finds there how to undo the message it names.
    transactions: Mapping[str, Transaction]

    def data(self) -> Fields:
        """`input.data`, the wrapping of most transactions."""
        return Fields(self.envelope.input.get("data"), "input.data")

    def input(self) -> Fields:
        return Fields(self.envelope.input, "input")


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file answered as the HTTP body itself (`application/octet-stream`), as national clients
    write the body of a 9102 straight to disk."""

    filename: str
    content: bytes


@dataclass
class Reply:
    """`output` is the JSON answer, kept for the msgid. With an `attachment` the client gets the
    file's bytes instead, and `output` (kept small: it names the file) is what a retried msgid
    finds; the row's `resend` reads the file again from it."""

    output: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    attachment: Attachment | None = None


Handler = Callable[[Call], Awaitable[Reply]]

Resender = Callable[[Call, Mapping[str, Any]], Awaitable[Attachment]]
"""How a row whose answer is a file answers a retried msgid: the file again, from the kept
`output` (it raises a `DomainError` when the file can no longer be handed out)."""


@dataclass(frozen=True, slots=True)
class Original:
    """The message a 2601 reverses, as the 2601 names it."""

    infno: str
    msgid: str
    psn_no: str


@dataclass(frozen=True, slots=True)
class Reversed:
    """What a reversal undid, as 2601 answers it: `result` is its `rever_result` ("nothing" when
    the original never arrived, changed nothing, or was undone already)."""

    result: str
    setl_id: str | None = None
    balc_fen: int | None = None


NOTHING = Reversed("nothing")

Reverser = Callable[[Call, Original], Awaitable[Reversed]]
"""How 2601 undoes one kind of message: it calls the one use case that undoes it."""


async def nothing_to_reverse(call: Call, original: Original) -> Reversed:
    """For a transaction that leaves nothing to undo (a query, a pre-settlement, the sign-in)."""
    return NOTHING
