"""A property of the stock use cases on a real database: whatever records arrive, in whatever
order, with deletions among them, no movement leaves stock below zero without its reason, a
refused record changes nothing, and an item's stock is always the sum of its movements."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.kernel.clock import FixedClock
from yibao.kernel.errors import DomainError
from yibao.runtime import Runtime
from yibao.stock import service
from yibao.stock.domain import MovementRequest
from yibao.stock.tables import StockItem, StockMovement

_CODES = itertools.count(1)
KINDS = ["inventory", "change", "purchase", "purchase_return", "sale", "sale_return"]

actions = st.lists(
    st.one_of(
        st.tuples(
            st.just("record"),
            st.sampled_from(KINDS),
            st.sampled_from(["A", "B"]),
            st.integers(min_value=0, max_value=50).map(lambda n: n * 5000),  # 0 … 25, by 0.5
            st.sampled_from(["101", "102", "103", "104", "105", "106", "107"]),
            st.one_of(st.none(), st.just("先销售后补录采购")),
        ),
        st.tuples(st.just("delete"), st.integers(min_value=0, max_value=20)),
    ),
    min_size=1,
    max_size=25,
)


async def _run(runtime: Runtime, script: list[tuple[object, ...]]) -> None:
    code = f"P{next(_CODES):011d}"  # each example its own institution: its own items
    sessions = runtime.sessions
    clock = FixedClock(datetime(2026, 11, 25, 2, 0, tzinfo=UTC))
    batches: list[tuple[str, str]] = []  # (batch number, inv_data_type) recorded so far
    for n, action in enumerate(script):
        async with sessions() as session:
            before = {i.fixmedins_hilist_id: i.stock_units for i in await _items(session, code)}
            try:
                if action[0] == "record":
                    _, kind, item, units, change_type, reason = action
                    bchno = f"B{n}"
                    request = MovementRequest(
                        kind=kind,  # type: ignore[arg-type]
                        where="input.x",
                        fixmedins_hilist_id=str(item),
                        fixmedins_hilist_name="商品",
                        med_list_codg="X1",
                        rx_flag="0",
                        fixmedins_bchno=bchno,
                        quantity=int(units),  # type: ignore[call-overload]
                        occurred_at=None,
                        change_type=str(change_type),
                        reason=reason,  # type: ignore[arg-type]
                    )
                    await service.record_in(session, clock, code, f"M{n}", [request])
                    data_type = {"inventory": "1", "change": "2"}.get(str(kind))
                    data_type = data_type or ("3" if "purchase" in str(kind) else "4")
                    batches.append((bchno, data_type))
                elif batches:
                    bchno, data_type = batches[int(action[1]) % len(batches)]  # type: ignore[call-overload]
                    await service.delete_in(
                        session,
                        clock,
                        code,
                        f"M{n}",
                        fixmedins_bchno=bchno,
                        inv_data_type=data_type,
                        where="input.data",
                    )
                await session.commit()
            except DomainError:
                await session.rollback()
                after = {i.fixmedins_hilist_id: i.stock_units for i in await _items(session, code)}
                assert after == before  # a refusal changes nothing
        async with sessions() as session:
            await _check(session, code)


async def _items(session: AsyncSession, code: str) -> list[StockItem]:
    stmt = select(StockItem).where(StockItem.fixmedins_code == code)
    return list((await session.execute(stmt)).scalars())


async def _check(session: AsyncSession, code: str) -> None:
    stmt = select(StockMovement).where(StockMovement.fixmedins_code == code)
    movements = list((await session.execute(stmt.order_by(StockMovement.id))).scalars())
    for movement in movements:
        assert movement.balance_units >= 0 or movement.negative_reason
    for item in await _items(session, code):
        own = [m for m in movements if m.item_id == item.id]
        assert item.stock_units == sum(m.delta_units for m in own)
        assert item.stock_units == own[-1].balance_units


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(script=actions)
async def test_stock_never_goes_negative_without_a_reason_whatever_arrives(
    runtime: Runtime, script: list[tuple[object, ...]]
) -> None:
    """On SQLite and on PostgreSQL: the database's check constraint is there too."""
    await _run(runtime, script)
