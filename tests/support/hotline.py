"""A caller for hotline tests: an employee with a card password who pays for a parent (家庭共济)."""

from __future__ import annotations

from dataclasses import dataclass

from tests.support.family import (
    PHARMACY,
    Member,
    buy,
    employee,
    go_online,
    member,
    open_aid,
    pharmacy,
    world,
)
from yibao.runtime import Runtime

START_FEN = 100_000
FOR_PARENT_FEN = 2_345
OWN_FEN = 1_230


@dataclass
class HotlineWorld:
    caller: Member
    parent: Member
    balance_fen: int
    phone: str


async def hotline_world(runtime: Runtime) -> HotlineWorld:
    await world(runtime)
    caller = await employee(runtime, fen=START_FEN, name="王芳")
    parent = await member(runtime, "王建国")
    await open_aid(runtime, caller, parent)
    shop = await pharmacy(runtime)
    paid = await buy(runtime, shop, parent, FOR_PARENT_FEN, f"{PHARMACY}202611250000000001")
    assert paid.payment.acct_mulaid_pay_fen == FOR_PARENT_FEN
    await buy(runtime, shop, caller, OWN_FEN, f"{PHARMACY}202611250000000002")
    phone = await go_online(runtime, caller)  # sets the card password (tests.support.identity)
    return HotlineWorld(caller, parent, START_FEN - FOR_PARENT_FEN - OWN_FEN, phone)


def id_keys(id_number: str) -> str:
    """The ID number as keys: X is the star key."""
    return id_number.replace("X", "*")
