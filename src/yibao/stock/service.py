"""Use cases of 进销存. They run inside the interface message's transaction (the `*_in` names):
the message's answer commits them, or a refusal rolls them back, so a refused message writes
nothing.

Every record becomes an append-only movement with the stock after it. An item's stock is
changed only here, under a lock of its row, so two messages about one item take turns. Stock
goes below zero only when the record says why (`reason`), and the database refuses a negative
balance without one. A deletion (3507) or a reversal (2601) never removes a movement: it adds a
compensating one and marks the original as undone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.kernel.clock import Clock
from yibao.kernel.errors import Conflict, NotFound
from yibao.settlement import repository as settlement_repository
from yibao.stock import repository
from yibao.stock.domain import (
    DATA_TYPES,
    KIND_NAMES,
    MovementRequest,
    balance_after,
    delta_of,
    shown,
)
from yibao.stock.repository import StockQuery
from yibao.stock.tables import StockItem, StockMovement, StockTraceCode


@dataclass(frozen=True, slots=True)
class Recorded:
    movement: StockMovement
    item: StockItem


def _dumps(values: dict[str, object]) -> str:
    return json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


async def _check_settlement(
    session: AsyncSession, fixmedins_code: str, request: MovementRequest
) -> None:
    """A sale (or its return) naming a settlement must name one of this institution's, of
    the person it names: that is what ties a 3505 to its 2102."""
    if not request.setl_id:
        return
    settlement = await settlement_repository.settlement_by_setl_id(session, request.setl_id)
    if settlement is None or settlement.fixmedins_code != fixmedins_code:
        raise NotFound(f"{request.where}.setl_id 不是本机构的结算")
    if request.psn_no and settlement.psn_no != request.psn_no:
        raise Conflict(f"{request.where}.psn_no 与结算 setl_id 的参保人不符")


async def record_in(
    session: AsyncSession,
    clock: Clock,
    fixmedins_code: str,
    msgid: str,
    requests: Sequence[MovementRequest],
) -> list[Recorded]:
    """Record each movement in order (one message may name an item more than once)."""
    now = clock.now()
    done: list[Recorded] = []
    for request in requests:
        await _check_settlement(session, fixmedins_code, request)
        item = await repository.item(
            session, fixmedins_code, request.fixmedins_hilist_id, lock=True
        )
        if item is None:
            item = StockItem(
                fixmedins_code=fixmedins_code,
                fixmedins_hilist_id=request.fixmedins_hilist_id,
                fixmedins_hilist_name=request.fixmedins_hilist_name,
                med_list_codg=request.med_list_codg,
                rx_flag=request.rx_flag,
                stock_units=0,
                created_at=now,
                updated_at=now,
            )
            session.add(item)
            await session.flush()
        delta = delta_of(request.kind, request.quantity, item.stock_units, request.change_type)
        after = balance_after(item.stock_units, delta, request.reason, where=request.where)
        item.stock_units, item.updated_at = after, now
        item.fixmedins_hilist_name = request.fixmedins_hilist_name or item.fixmedins_hilist_name
        item.med_list_codg = request.med_list_codg or item.med_list_codg
        item.rx_flag = request.rx_flag or item.rx_flag
        movement = StockMovement(
            item_id=item.id,
            fixmedins_code=fixmedins_code,
            kind=request.kind,
            change_type=request.change_type,
            fixmedins_bchno=request.fixmedins_bchno,
            quantity_units=request.quantity,
            delta_units=delta,
            balance_units=after,
            negative_reason=request.reason or None,
            occurred_at=request.occurred_at,
            msgid=msgid,
            setl_id=request.setl_id,
            mdtrt_sn=request.mdtrt_sn,
            psn_no=request.psn_no,
            fields=_dumps(request.fields),
            created_at=now,
        )
        session.add(movement)
        await session.flush()
        for code in dict.fromkeys(request.trace_codes):
            session.add(StockTraceCode(movement_id=movement.id, drug_trac_codg=code))
        done.append(Recorded(movement, item))
    await session.flush()
    return done


async def _undo(
    session: AsyncSession,
    clock: Clock,
    originals: list[StockMovement],
    msgid: str,
    why: str,
    where: str,
    reason: str | None = None,
) -> list[Recorded]:
    """Add a compensating movement for each original (newest first) and mark it undone.
    `reason` lets the compensation take stock below zero (a 3507 may give one; a 2601 not)."""
    now = clock.now()
    done: list[Recorded] = []
    for original in reversed(originals):
        item = await repository.item_by_id(session, original.item_id, lock=True)
        delta = -original.delta_units
        after = balance_after(
            item.stock_units, delta, reason, where=where, may_give_reason=why == "deleted"
        )
        item.stock_units, item.updated_at = after, now
        original.undone_at, original.undone_by_msgid = now, msgid
        compensation = StockMovement(
            item_id=item.id,
            fixmedins_code=original.fixmedins_code,
            kind="deletion",
            change_type=None,
            fixmedins_bchno=original.fixmedins_bchno,
            quantity_units=abs(delta),
            delta_units=delta,
            balance_units=after,
            negative_reason=reason or None,
            occurred_at=None,
            msgid=msgid,
            setl_id=original.setl_id,
            mdtrt_sn=original.mdtrt_sn,
            psn_no=original.psn_no,
            fields=_dumps({"undone_as": why, "undoes_kind": original.kind}),
            undoes_id=original.id,
            created_at=now,
        )
        session.add(compensation)
        done.append(Recorded(compensation, item))
    await session.flush()
    return done


async def delete_in(
    session: AsyncSession,
    clock: Clock,
    fixmedins_code: str,
    msgid: str,
    *,
    fixmedins_bchno: str,
    inv_data_type: str,
    where: str,
    reason: str | None = None,
) -> list[Recorded]:
    """商品信息删除: the records of that batch number and kind are undone (kept, marked, and
    compensated); refused when there are none, or when undoing would take stock below zero and
    no `reason` is given."""
    kinds = DATA_TYPES[inv_data_type]
    originals = await repository.live_movements(
        session, fixmedins_code, kinds=kinds, bchno=fixmedins_bchno
    )
    if not originals:
        names = "、".join(KIND_NAMES[k] for k in kinds)
        raise NotFound(f"本机构没有 {where}.fixmedins_bchno 对应的未删除{names}记录")
    return await _undo(session, clock, originals, msgid, "deleted", where, reason)


async def withdraw_message(
    session: AsyncSession, clock: Clock, fixmedins_code: str, *, msgid: str, by_msgid: str
) -> list[Recorded]:
    """Undo what one earlier message recorded (its movements not undone yet); nothing when it
    recorded nothing or was undone already."""
    kinds = ("inventory", "change", "purchase", "purchase_return", "sale", "sale_return")
    originals = await repository.live_movements(session, fixmedins_code, kinds=kinds, msgid=msgid)
    return await _undo(session, clock, originals, by_msgid, "reversed", "input.data.omsgid")


async def items(
    session: AsyncSession, query: StockQuery, offset: int, limit: int
) -> tuple[int, list[StockItem]]:
    return await repository.items_page(session, query, offset, limit)


@dataclass(frozen=True, slots=True)
class MovementRow:
    movement: StockMovement
    item: StockItem
    trace_codes: list[str]


async def movements(
    session: AsyncSession, query: StockQuery, offset: int, limit: int
) -> tuple[int, list[MovementRow]]:
    total, rows = await repository.movements_page(session, query, offset, limit)
    codes = await repository.trace_codes(session, [m.id for m, _ in rows])
    return total, [MovementRow(m, i, codes.get(m.id, [])) for m, i in rows]


__all__ = [
    "MovementRow",
    "Recorded",
    "StockQuery",
    "delete_in",
    "items",
    "movements",
    "record_in",
    "shown",
    "withdraw_message",
]
