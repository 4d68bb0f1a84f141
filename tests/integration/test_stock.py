"""进销存 on both databases: the database itself refuses a negative stock without a reason, a
deletion is a compensating movement (nothing removed), and a sale names its settlement."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.kernel.clock import FixedClock
from yibao.kernel.errors import NotFound
from yibao.stock import service
from yibao.stock.domain import MovementRequest, NegativeStock
from yibao.stock.tables import StockItem, StockMovement, StockTraceCode

CODE = "P44030500631"


def _request(kind: str, units: int, bchno: str, **extra: object) -> MovementRequest:
    return MovementRequest(
        kind=kind,  # type: ignore[arg-type]
        where="input.x",
        fixmedins_hilist_id="SP0009",
        fixmedins_hilist_name="缬沙坦胶囊",
        med_list_codg="XC09AAD012A001010104291",
        rx_flag="1",
        fixmedins_bchno=bchno,
        quantity=units,
        occurred_at=None,
        **extra,  # type: ignore[arg-type]
    )


async def test_movements_deletions_and_the_negative_rule(session: AsyncSession) -> None:
    clock = FixedClock(datetime(2026, 11, 25, 2, 0, tzinfo=UTC))
    await service.record_in(
        session,
        clock,
        CODE,
        "M1",
        [
            _request("purchase", 50000, "P1", trace_codes=("8100", "8101", "8100")),
            _request("sale", 20000, "S1"),
        ],
    )
    await session.commit()
    item = (await session.execute(select(StockItem))).scalar_one()
    assert item.stock_units == 30000
    codes = (await session.execute(select(StockTraceCode.drug_trac_codg))).scalars()
    assert sorted(codes) == ["8100", "8101"]  # stored once each, with the purchase

    with pytest.raises(NegativeStock):
        await service.record_in(session, clock, CODE, "M2", [_request("sale", 40000, "S2")])
    await session.rollback()

    # Deleting the purchase would leave -2: refused, nothing changed.
    with pytest.raises(NegativeStock):
        await service.delete_in(
            session, clock, CODE, "M3", fixmedins_bchno="P1", inv_data_type="3", where="input.data"
        )
    await session.rollback()
    # Deleting the sale gives its 2 back; the sale stays, marked, with its compensation.
    await service.delete_in(
        session, clock, CODE, "M4", fixmedins_bchno="S1", inv_data_type="4", where="input.data"
    )
    await session.commit()
    rows = (await session.execute(select(StockMovement).order_by(StockMovement.id))).scalars()
    listed = [(m.kind, m.delta_units, m.balance_units, m.undone_by_msgid) for m in rows]
    assert listed == [
        ("purchase", 50000, 50000, None),
        ("sale", -20000, 30000, "M4"),
        ("deletion", 20000, 50000, None),
    ]
    with pytest.raises(NotFound):
        await service.delete_in(
            session, clock, CODE, "M5", fixmedins_bchno="S1", inv_data_type="4", where="input.data"
        )
    await session.rollback()
    assert await session.scalar(select(func.count()).select_from(StockMovement)) == 3

    # With a reason, stock may go below zero, and the reason is kept.
    await service.record_in(
        session, clock, CODE, "M6", [_request("sale", 60000, "S3", reason="先销售后补录采购")]
    )
    await session.commit()
    item = (await session.execute(select(StockItem))).scalar_one()
    await session.refresh(item)
    assert item.stock_units == -10000


async def test_the_database_refuses_a_negative_balance_without_a_reason(
    session: AsyncSession,
) -> None:
    clock = FixedClock(datetime(2026, 11, 25, 2, 0, tzinfo=UTC))
    done = await service.record_in(session, clock, CODE, "M1", [_request("purchase", 1, "P1")])
    await session.commit()
    session.add(
        StockMovement(
            item_id=done[0].item.id,
            fixmedins_code=CODE,
            kind="sale",
            fixmedins_bchno="S1",
            quantity_units=2,
            delta_units=-2,
            balance_units=-1,
            negative_reason=None,
            msgid="M2",
            fields="{}",
            created_at=clock.now(),
        )
    )
    with pytest.raises(IntegrityError):
        await session.commit()
    await session.rollback()


async def test_a_deletion_may_take_stock_below_zero_only_with_its_reason(
    session: AsyncSession,
) -> None:
    clock = FixedClock(datetime(2026, 11, 25, 2, 0, tzinfo=UTC))
    await service.record_in(
        session,
        clock,
        CODE,
        "M1",
        [_request("purchase", 30000, "P1"), _request("sale", 20000, "S1")],
    )
    await session.commit()
    with pytest.raises(NegativeStock, match="neg_inv_rea"):
        await service.delete_in(
            session, clock, CODE, "M2", fixmedins_bchno="P1", inv_data_type="3", where="input.data"
        )
    await session.rollback()
    done = await service.delete_in(
        session,
        clock,
        CODE,
        "M3",
        fixmedins_bchno="P1",
        inv_data_type="3",
        where="input.data",
        reason="采购单录错，待补录",
    )
    await session.commit()
    assert done[0].movement.balance_units == -20000
    assert done[0].movement.negative_reason == "采购单录错，待补录"
    # A 2601 cannot give a reason: reversing the sale's message is fine (it adds), but
    # reversing a purchase that was sold is refused.
    await service.record_in(session, clock, CODE, "M4", [_request("purchase", 50000, "P2")])
    await service.record_in(session, clock, CODE, "M5", [_request("sale", 30000, "S2")])
    await session.commit()
    with pytest.raises(NegativeStock, match="请先上传"):
        await service.withdraw_message(session, clock, CODE, msgid="M4", by_msgid="M6")
    await session.rollback()
