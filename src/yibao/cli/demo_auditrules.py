"""The detail-audit part of `yibao demo`: a small rule book (明细审核规则) in force from today,
loaded as an operator loads a region's first rules (approved at once, each in the audit trail).
Loaded after the demo's history, so past settlements were checked by no rule, as they were."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.auditrules import service
from yibao.kernel.clock import china_today
from yibao.runtime import Runtime

AMOXICILLIN = "XJ01CA04A00134840396700"  # 阿莫西林胶囊 0.25g*24粒
CEFIXIME = "XJ01DD08A00263042978827"  # 头孢克肟分散片 0.1g*6片, 乙类
CLARITHROMYCIN = "XJ01FA09A00660810602760"  # 克拉霉素缓释片, 乙类
IBUPROFEN = "XM01AE01A00878641957737"  # 布洛芬缓释胶囊

# code, kind, item, severity, name, limits
DEMO_RULES: tuple[tuple[str, str, str, str, str, dict[str, str]], ...] = (
    ("DEMO-DUP", "duplicate_day", "*", "warn", "同一项目同日重复收费", {}),
    ("DEMO-QTY", "quantity", AMOXICILLIN, "block", "阿莫西林胶囊单次限量", {"max_cnt": "10"}),
    (
        "DEMO-DAYS",
        "supply_days",
        AMOXICILLIN,
        "warn",
        "阿莫西林胶囊门诊用药不超过7天",
        {"days_per_unit": "3", "max_days": "7"},
    ),
    (
        "DEMO-REP",
        "repeat_supply",
        CEFIXIME,
        "warn",
        "头孢克肟跨机构重复开药",
        {"days_per_unit": "3"},
    ),
    (
        "DEMO-B",
        "class_b_diagnosis",
        CLARITHROMYCIN,
        "warn",
        "克拉霉素限呼吸道感染",
        {"dise_codes": "J"},
    ),
    (
        "DEMO-AGE",
        "age",
        IBUPROFEN,
        "warn",
        "布洛芬缓释胶囊限12岁以上",
        {"min_age": "12", "max_age": "150"},
    ),
)


async def load_demo_rules(runtime: Runtime, session: AsyncSession) -> int:
    today = china_today(runtime.clock)
    return await service.load_rules(
        session,
        runtime.clock,
        [
            service.Proposal(code, kind, item, severity, name, params, today, "演示规则")
            for code, kind, item, severity, name, params in DEMO_RULES
        ],
    )
