"""Queries of the open API on a session; never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.partners.tables import Partner, PartnerCode, PartnerGrant, PartnerToken


async def add(session: AsyncSession, row: object) -> None:
    session.add(row)
    await session.flush()


async def partner_by_client_id(
    session: AsyncSession, client_id: str, *, lock: bool = False
) -> Partner | None:
    stmt = select(Partner).where(Partner.client_id == client_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def partner_by_id(
    session: AsyncSession, partner_id: int, *, lock: bool = False
) -> Partner | None:
    stmt = select(Partner).where(Partner.id == partner_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def partners(session: AsyncSession, status: str | None = None) -> list[Partner]:
    stmt = select(Partner).order_by(Partner.id)
    if status is not None:
        stmt = stmt.where(Partner.status == status)
    return list((await session.execute(stmt)).scalars())


async def open_grants_for(
    session: AsyncSession, partner_id: int, person_id: int
) -> list[PartnerGrant]:
    stmt = (
        select(PartnerGrant)
        .where(
            PartnerGrant.partner_id == partner_id,
            PartnerGrant.person_id == person_id,
            PartnerGrant.revoked_at.is_(None),
        )
        .with_for_update()
    )
    return list((await session.execute(stmt)).scalars())


@dataclass(frozen=True, slots=True)
class GrantRow:
    grant: PartnerGrant
    partner_name: str
    company: str


async def grants_of_person(session: AsyncSession, person_id: int) -> list[GrantRow]:
    stmt = (
        select(PartnerGrant, Partner.name, Partner.company)
        .join(Partner, Partner.id == PartnerGrant.partner_id)
        .where(PartnerGrant.person_id == person_id)
        .order_by(PartnerGrant.granted_at.desc(), PartnerGrant.id.desc())
        .limit(200)
    )
    return [GrantRow(g, n, c) for g, n, c in (await session.execute(stmt)).all()]


async def grant_of_person(
    session: AsyncSession, person_id: int, grant_id: int
) -> PartnerGrant | None:
    stmt = (
        select(PartnerGrant)
        .where(PartnerGrant.id == grant_id, PartnerGrant.person_id == person_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def grant_by_id(session: AsyncSession, grant_id: int) -> PartnerGrant | None:
    stmt = (
        select(PartnerGrant)
        .where(PartnerGrant.id == grant_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def code_by_hash(session: AsyncSession, code_hash: str) -> PartnerCode | None:
    stmt = (
        select(PartnerCode)
        .where(PartnerCode.code_hash == code_hash)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def token_by_hash(
    session: AsyncSession, token_hash: str, *, lock: bool = False
) -> PartnerToken | None:
    stmt = select(PartnerToken).where(PartnerToken.token_hash == token_hash)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


@dataclass(frozen=True, slots=True)
class TokenContext:
    token: PartnerToken
    grant: PartnerGrant
    partner: Partner


async def token_context(session: AsyncSession, token_hash: str) -> TokenContext | None:
    """The token with its grant and partner, in one statement (every partner call runs it)."""
    stmt = (
        select(PartnerToken, PartnerGrant, Partner)
        .join(PartnerGrant, PartnerGrant.id == PartnerToken.grant_id)
        .join(Partner, Partner.id == PartnerToken.partner_id)
        .where(PartnerToken.token_hash == token_hash)
        .execution_options(populate_existing=True)
    )
    row = (await session.execute(stmt)).first()
    return None if row is None else TokenContext(row[0], row[1], row[2])


async def revoke_family(session: AsyncSession, family: str, now: datetime) -> None:
    await session.execute(
        update(PartnerToken)
        .where(PartnerToken.family == family, PartnerToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_grant_tokens(session: AsyncSession, grant_id: int, now: datetime) -> None:
    await session.execute(
        update(PartnerToken)
        .where(PartnerToken.grant_id == grant_id, PartnerToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_partner_tokens(session: AsyncSession, partner_id: int, now: datetime) -> None:
    await session.execute(
        update(PartnerToken)
        .where(PartnerToken.partner_id == partner_id, PartnerToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def touch_grant(session: AsyncSession, grant_id: int, now: datetime) -> None:
    await session.execute(
        update(PartnerGrant).where(PartnerGrant.id == grant_id).values(last_used_at=now)
    )


async def idle_grants(
    session: AsyncSession, idle_since: datetime, limit: int
) -> list[PartnerGrant]:
    """Grants still marked open that nobody used since `idle_since`, locked; a sweep running in
    two workers at once takes different ones (`SKIP LOCKED`). Not a hot path: the worker runs it
    now and then, and it reads only the open grants' times."""
    stmt = (
        select(PartnerGrant)
        .where(
            PartnerGrant.revoked_at.is_(None),
            func.coalesce(PartnerGrant.last_used_at, PartnerGrant.granted_at) <= idle_since,
        )
        .order_by(PartnerGrant.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return list((await session.execute(stmt)).scalars())
