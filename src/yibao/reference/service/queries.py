"""The reference queries institutions page through (1201, 1304, 1312, 1316–1319, 1901, 5102,
100001). Reads only: nothing here commits.

1312, 1318 and 1319 answer from the 医保目录 settlement applies (`catalogue_entries`), so an
institution sees the very classes, price caps and self-pay shares its bills are split by.
100001 answers the region's rules (enrolment's `regions`) as policy items, for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment import repository as enrolment_repository
from yibao.kernel.pii import PersonalDataCipher
from yibao.reference import repository
from yibao.reference.domain import Page
from yibao.reference.repository import MappingQuery, RecordQuery
from yibao.reference.service.imports import CERTNO_PURPOSE
from yibao.reference.tables import InstitutionListMapping, ReferenceRecord
from yibao.settlement import repository as settlement_repository
from yibao.settlement.repository.listing import CatalogueQuery, catalogue_page
from yibao.settlement.tables import CatalogueEntry, Institution


async def records(
    session: AsyncSession, query: RecordQuery, page: Page
) -> tuple[int, list[ReferenceRecord]]:
    return await repository.record_page(session, query, page)


def practitioner_lookup(cipher: PersonalDataCipher, certno: str) -> str:
    return cipher.lookup_hash(certno.strip().upper(), purpose=CERTNO_PURPOSE)


async def mappings(
    session: AsyncSession, query: MappingQuery, page: Page
) -> tuple[int, list[InstitutionListMapping]]:
    """1317: the asking institution's own mappings only (the query carries its code)."""
    return await repository.mapping_page(session, query, page)


async def catalogue(
    session: AsyncSession, query: CatalogueQuery, page: Page
) -> tuple[int, list[CatalogueEntry]]:
    return await catalogue_page(session, query, page.offset, page.size)


async def institutions(
    session: AsyncSession, *, code: str | None, name: str | None, kind: str | None
) -> list[Institution]:
    """1201: designated institutions by code, part of the name or type (never their tokens)."""
    found = await settlement_repository.institutions(session, kind=kind)
    return [
        i for i in found if (not code or i.fixmedins_code == code) and (not name or name in i.name)
    ]


@dataclass(frozen=True, slots=True)
class PolicyItem:
    admdvs: str
    region_name: str
    code: str
    name: str
    value: str
    unit: str


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _ratio(bp: int) -> str:
    return f"{bp // 10000}.{bp % 10000:04d}"


async def policy_items(session: AsyncSession, admdvs: str | None) -> list[PolicyItem]:
    """100001: each region's rules as the policy items settlement applies."""
    regions = await enrolment_repository.all_regions(session)
    items = []
    for region in regions:
        if admdvs and region.admdvs != admdvs:
            continue
        for code, name, value, unit in (
            ("DEDUCTIBLE", "起付标准（年度）", _yuan(region.deductible_fen), "元"),
            ("FUND_RATIO", "统筹基金支付比例（在职）", _ratio(region.fund_ratio_bp), "比例"),
            (
                "RETIREE_FUND_RATIO",
                "统筹基金支付比例（退休）",
                _ratio(region.retiree_fund_ratio_bp),
                "比例",
            ),
            ("YEARLY_CAP", "统筹基金年度最高支付限额", _yuan(region.yearly_cap_fen), "元"),
            ("CLASS_B_SELFPAY", "乙类先行自付比例", _ratio(region.class_b_selfpay_bp), "比例"),
            (
                "ACCOUNT_CREDIT_RATE",
                "个人账户划入比例（在职）",
                _ratio(region.account_credit_rate_bp),
                "比例",
            ),
            (
                "RETIREE_MONTHLY_CREDIT",
                "个人账户月划入额（退休）",
                _yuan(region.retiree_monthly_credit_fen),
                "元",
            ),
        ):
            items.append(PolicyItem(region.admdvs, region.name, code, name, value, unit))
    return items
