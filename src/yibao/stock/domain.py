"""进销存 rules, pure: quantities as exact integers, the sign of each movement, and the rule that
stock never goes below zero unless the movement records why.

Quantities are kept in ten-thousandths of the unit (`units`), an integer: the interface sends at
most 4 decimals (`sel_retn_cnt` 16,4; `inv_cnt` 16,2), so nothing is rounded and no float is
ever used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

from yibao.kernel.errors import InvalidInput

SCALE = 10_000
MAX_UNITS = 10**12 * SCALE  # below 10^12 of the unit (the national 16,4)

MovementKind = Literal[
    "inventory", "change", "purchase", "purchase_return", "sale", "sale_return", "deletion"
]
KIND_NAMES: dict[str, str] = {
    "inventory": "盘存",
    "change": "库存变更",
    "purchase": "采购",
    "purchase_return": "采购退货",
    "sale": "销售",
    "sale_return": "销售退货",
    "deletion": "删除冲销",
}
# The sign a movement applies to stock (an inventory count sets it instead).
SIGN: dict[str, int] = {"purchase": 1, "purchase_return": -1, "sale": -1, "sale_return": 1}

# 库存变更类型 (inv_chg_type) and whether it adds to or takes from stock. The codes follow the
# national dictionary as institutions send them; the signs are yibao's reading of their names.
CHANGE_TYPES: dict[str, tuple[str, int]] = {
    "101": ("调拨入库", 1),
    "102": ("调拨出库", -1),
    "103": ("盘盈", 1),
    "104": ("盘损", -1),
    "105": ("报损报废", -1),
    "106": ("其他入库", 1),
    "107": ("其他出库", -1),
}

# 3507 进销存数据类型 (inv_data_type): which kind of record a deletion names.
DATA_TYPES: dict[str, tuple[MovementKind, ...]] = {
    "1": ("inventory",),
    "2": ("change",),
    "3": ("purchase", "purchase_return"),
    "4": ("sale", "sale_return"),
}


class NegativeStock(InvalidInput):
    """A movement would take stock below zero and records no reason."""

    code = "negative_stock"


def to_units(quantity: Decimal, *, where: str) -> int:
    """An exact quantity in ten-thousandths; more than 4 decimals or too large is refused."""
    if not quantity.is_finite():
        raise InvalidInput(f"{where} 应为数量")
    scaled = quantity * SCALE
    if scaled != scaled.to_integral_value():
        raise InvalidInput(f"{where} 最多4位小数")
    units = int(scaled)
    if abs(units) >= MAX_UNITS:
        raise InvalidInput(f"{where} 过大")
    return units


def shown(units: int) -> str:
    """A quantity as the interface writes it: no exponent, no trailing zeros (`12`, `0.5`)."""
    value = Decimal(units).scaleb(-4)
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in {"", "-0"} else text


def delta_of(kind: str, quantity: int, current: int, change_type: str | None = None) -> int:
    """What a movement adds to stock (negative: takes). An inventory count sets stock to
    `quantity`; a change adds or takes by its type."""
    if kind == "inventory":
        return quantity - current
    if kind == "change":
        assert change_type is not None
        return CHANGE_TYPES[change_type][1] * quantity
    return SIGN[kind] * quantity


def balance_after(
    current: int, delta: int, reason: str | None, *, where: str, may_give_reason: bool = True
) -> int:
    """Stock after the movement. Below zero only with a recorded reason (`may_give_reason`:
    whether the message could carry one, `neg_inv_rea`; a 2601 cannot)."""
    after = current + delta
    if after < 0 and not (reason and reason.strip()):
        hint = (
            f"如确需记录，请在 {where}.neg_inv_rea 说明原因"
            if may_give_reason
            else "请先上传使库存足够的记录（如采购）"
        )
        raise NegativeStock(
            f"{where} 将使库存为负数（现有 {shown(current)}，变动 {shown(delta)}）；{hint}"
        )
    return after


@dataclass(frozen=True, slots=True)
class MovementRequest:
    """One record an institution sends (3501 … 3506). `quantity` is in units and not signed:
    the kind says the direction (an inventory count is the counted stock, ≥ 0)."""

    kind: MovementKind
    where: str
    fixmedins_hilist_id: str
    fixmedins_hilist_name: str
    med_list_codg: str
    rx_flag: str
    fixmedins_bchno: str
    quantity: int
    occurred_at: datetime | None
    change_type: str | None = None
    reason: str | None = None
    setl_id: str | None = None
    mdtrt_sn: str | None = None
    psn_no: str | None = None
    trace_codes: tuple[str, ...] = ()
    fields: dict[str, object] = field(default_factory=dict)
