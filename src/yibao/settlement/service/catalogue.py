"""Catalogue import (医保目录): all rows or none, each version keyed by code and start date."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.kernel.clock import SystemClock
from yibao.kernel.errors import DomainError
from yibao.kernel.money import parse_yuan
from yibao.settlement import repository
from yibao.settlement.domain import ITEM_CLASS_NAMES, InvalidCatalogueItem
from yibao.settlement.tables import CatalogueEntry

LIST_TYPES = {
    "drug": "drug",
    "药品": "drug",
    "service": "service",
    "诊疗项目": "service",
    "consumable": "consumable",
    "耗材": "consumable",
    "医用耗材": "consumable",
}
CLASSES = {
    "01": "01",
    "甲": "01",
    "甲类": "01",
    "02": "02",
    "乙": "02",
    "乙类": "02",
    "03": "03",
    "丙": "03",
    "丙类": "03",
}


@dataclass(frozen=True, slots=True)
class CatalogueRow:
    med_list_codg: str
    name: str
    list_type: str
    chrgitm_lv: str
    selfpay_share: str = ""  # 乙类先行自付比例 in percent, e.g. "10"; empty: the region's
    price_cap: str = ""  # 限价 in yuan per unit; empty: none
    spec: str = ""
    begin_date: str = ""
    end_date: str = ""


@dataclass
class CatalogueReport:
    loaded: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def _date(raw: str, field_name: str, default: date | None) -> date | None:
    text = raw.strip()
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidCatalogueItem(f"{field_name} 应为 YYYY-MM-DD，收到 {raw!r}") from exc


def _share_bp(raw: str) -> int | None:
    text = raw.strip().rstrip("%")
    if not text:
        return None
    try:
        share = Decimal(text)
    except InvalidOperation as exc:
        raise InvalidCatalogueItem(f"自付比例应为0到100的百分数，收到 {raw!r}") from exc
    if not (0 <= share <= 100) or share != share.quantize(Decimal("0.01")):
        raise InvalidCatalogueItem(f"自付比例应为0到100的百分数（最多2位小数），收到 {raw!r}")
    return int(share * 100)


def parse_row(row: CatalogueRow) -> CatalogueEntry:
    code = row.med_list_codg.strip()
    if not (4 <= len(code) <= 50) or not code.isascii() or not code.isalnum():
        raise InvalidCatalogueItem(f"目录编码应为4到50位字母或数字，收到 {row.med_list_codg!r}")
    name = row.name.strip()
    if not (1 <= len(name) <= 200):
        raise InvalidCatalogueItem(f"{code}: 名称不能为空")
    list_type = LIST_TYPES.get(row.list_type.strip())
    if list_type is None:
        raise InvalidCatalogueItem(
            f"{code}: 目录类别应为 drug/service/consumable（药品/诊疗项目/耗材）"
        )
    level = CLASSES.get(row.chrgitm_lv.strip())
    if level is None:
        raise InvalidCatalogueItem(f"{code}: 收费项目等级应为 01 甲类、02 乙类或 03 丙类")
    selfpay = _share_bp(row.selfpay_share)
    if selfpay is not None and level != "02":
        raise InvalidCatalogueItem(
            f"{code}: 只有乙类项目有先行自付比例（本项为{ITEM_CLASS_NAMES[level]}）"
        )
    cap = None
    if row.price_cap.strip():
        cap = parse_yuan(row.price_cap, field=f"{code} 限价")
        if cap < 0:
            raise InvalidCatalogueItem(f"{code}: 限价不能为负数")
    begin = _date(row.begin_date, "开始日期", date(2000, 1, 1))
    end = _date(row.end_date, "结束日期", None)
    assert begin is not None
    if end is not None and end < begin:
        raise InvalidCatalogueItem(f"{code}: 结束日期早于开始日期")
    return CatalogueEntry(
        med_list_codg=code,
        name=name,
        list_type=list_type,
        chrgitm_lv=level,
        selfpay_bp=selfpay,
        price_cap_fen=cap,
        spec=row.spec.strip() or None,
        begin_date=begin,
        end_date=end,
    )


async def import_catalogue(
    session: AsyncSession, rows: list[tuple[int, CatalogueRow]], *, now: datetime | None = None
) -> CatalogueReport:
    """Load every row, or nothing when any row is wrong (the report lists each by line).

    A row added or changed gets `updated_at` (institutions ask 1312/1318/1319 for what changed
    since a moment); a row loaded again unchanged keeps it."""
    now = now or SystemClock().now()
    report = CatalogueReport()
    parsed: list[CatalogueEntry] = []
    for line, row in rows:
        try:
            parsed.append(parse_row(row))
        except DomainError as exc:
            report.errors.append(f"第{line}行: {exc.message}")
    if report.errors:
        return report
    seen: set[tuple[str, date]] = set()
    for entry in parsed:
        key = (entry.med_list_codg, entry.begin_date)
        if key in seen:
            report.errors.append(f"{entry.med_list_codg} 自 {entry.begin_date} 的版本重复出现")
            return report
        seen.add(key)
        existing = await repository.catalogue_entry(session, *key)
        if existing is None:
            entry.updated_at = now
            session.add(entry)
            report.loaded += 1
            continue
        changed = False
        for column in (
            "name",
            "list_type",
            "chrgitm_lv",
            "selfpay_bp",
            "price_cap_fen",
            "spec",
            "end_date",
        ):
            if getattr(existing, column) != getattr(entry, column):
                setattr(existing, column, getattr(entry, column))
                changed = True
        if changed or existing.updated_at is None:
            existing.updated_at = now
        report.updated += 1
    await session.commit()
    repository.forget_catalogue(session)
    return report
