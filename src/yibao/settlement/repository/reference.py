"""Reference rows on the hot path, cached per process (db/reference.py): what the gateway needs
of an institution, and the catalogue's rules."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.db.reference import reference_cache
from yibao.settlement.domain import Caller, CatalogueRule, ItemClass
from yibao.settlement.tables import CatalogueEntry, Institution


async def institution_by_paasid(session: AsyncSession, paasid: str) -> Institution | None:
    stmt = select(Institution).where(Institution.paasid == paasid)
    return (await session.execute(stmt)).scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class GatewayEntry:
    """What the gateway needs of an institution, cached per process (db/reference.py)."""

    caller: Caller
    status: str
    token_enc: bytes


GATEWAY = "institution-gateway"


async def gateway_entry(
    session: AsyncSession, paasid: str, *, fresh: bool = False
) -> GatewayEntry | None:
    cache = reference_cache(session)
    if not fresh:
        found, entry = cache.get(GATEWAY, paasid)
        if found:
            return entry  # type: ignore[no-any-return]
    institution = await institution_by_paasid(session, paasid)
    if institution is None:
        return None
    entry = GatewayEntry(
        Caller(
            id=institution.id,
            fixmedins_code=institution.fixmedins_code,
            name=institution.name,
            kind=institution.kind,
            admdvs=institution.admdvs,
            sign_no=institution.sign_no,
            sign_day=institution.sign_day,
        ),
        institution.status,
        institution.token_enc,
    )
    cache.put(GATEWAY, paasid, entry)
    return entry


def forget_institution(session: AsyncSession, paasid: str) -> None:
    reference_cache(session).forget(GATEWAY, paasid)


CATALOGUE = "catalogue-rule"


async def catalogue_rules(
    session: AsyncSession, codes: Iterable[str], on: date
) -> dict[str, CatalogueRule]:
    """The rules of these codes on a day; codes not in the catalogue are absent. Cached per
    process, absences too (an unknown code is fully self-paid until an import adds it)."""
    cache = reference_cache(session)
    rules: dict[str, CatalogueRule] = {}
    missing = []
    for code in set(codes):
        found, rule = cache.get(CATALOGUE, (code, on))
        if not found:
            missing.append(code)
        elif rule is not None:
            rules[code] = rule
    if missing:
        read = await _catalogue_rules(session, missing, on)
        for code in missing:
            cache.put(CATALOGUE, (code, on), read.get(code))
        rules.update(read)
    return rules


def forget_catalogue(session: AsyncSession) -> None:
    reference_cache(session).forget(CATALOGUE)


async def _catalogue_rules(
    session: AsyncSession, codes: Iterable[str], on: date
) -> dict[str, CatalogueRule]:
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    stmt = select(CatalogueEntry).where(
        CatalogueEntry.med_list_codg.in_(wanted),
        CatalogueEntry.begin_date <= on,
        or_(CatalogueEntry.end_date.is_(None), CatalogueEntry.end_date >= on),
    )
    rules: dict[str, CatalogueRule] = {}
    for entry in (await session.execute(stmt)).scalars():
        rules[entry.med_list_codg] = CatalogueRule(
            med_list_codg=entry.med_list_codg,
            name=entry.name,
            chrgitm_lv=ItemClass(entry.chrgitm_lv),
            selfpay_bp=entry.selfpay_bp,
            price_cap_fen=entry.price_cap_fen,
        )
    return rules
