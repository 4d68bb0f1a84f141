"""A partner's call on /open/v1, and the person's own view of their grants (已授权的应用).

`admit` runs before every partner read: it checks the token, the grant and the partner in one
statement, counts the call against the partner's rate limit in the short-lived store (so every
server process counts the same minute), writes the read to the audit trail and the grant's last
use, and commits — before the delivery layer reads anything. `sweep_idle_grants` is the
worker's: it marks grants idle for 180 days as ended and tells their person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import repository as audit_repository
from yibao.audit.domain import PARTNER_READS, ActorType
from yibao.db.ephemeral import EphemeralStore
from yibao.kernel.clock import Clock
from yibao.notifications import repository as outbox
from yibao.notifications.domain import Channel
from yibao.partners import repository
from yibao.partners.domain import (
    GRANT_IDLE_LIMIT,
    SCOPES,
    Admission,
    GrantNotFound,
    InsufficientScope,
    InvalidToken,
    PartnerRateLimited,
    PartnerStatus,
    TokenKind,
    grant_expired_text,
    grant_idle_until,
    grant_is_live,
)
from yibao.partners.service.authorise import token_hash

RATE_WINDOW = timedelta(minutes=1)


async def _count_call(
    ephemeral: EphemeralStore, partner_id: int, limit: int, now: datetime
) -> None:
    minute = int(now.timestamp()) // 60
    calls = await ephemeral.incr(f"open:rate:{partner_id}:{minute}", RATE_WINDOW * 2)
    if calls > limit:
        raise PartnerRateLimited(
            "调用过于频繁，请稍后再试", retry_after=60 - int(now.timestamp()) % 60
        )


async def admit(
    session: AsyncSession,
    ephemeral: EphemeralStore,
    clock: Clock,
    token: str,
    *,
    scope: str,
    data: str,
) -> Admission:
    now = clock.now()
    context = await repository.token_context(session, token_hash(token)) if token else None
    if (
        context is None
        or context.token.kind != TokenKind.ACCESS
        or context.token.revoked_at is not None
        or context.token.expires_at <= now
        or context.partner.status != PartnerStatus.ACTIVE
    ):
        raise InvalidToken("访问令牌无效或已过期")
    grant, partner = context.grant, context.partner
    if not grant_is_live(grant.granted_at, grant.last_used_at, grant.revoked_at, now):
        raise InvalidToken("访问令牌无效或已过期")
    await _count_call(ephemeral, partner.id, partner.rate_limit_per_minute, now)
    held = frozenset(context.token.scopes.split()) & frozenset(grant.scopes.split())
    if scope not in held:
        raise InsufficientScope(f"用户未授权该应用读取{SCOPES[scope][0]}", scope=scope)
    await audit_repository.record(
        session,
        actor_type=ActorType.PARTNER.value,
        actor_id=partner.client_id,
        actor_name=partner.name,
        role="partner",
        office=partner.company,
        action="partner.read",
        subject_person_id=grant.person_id,
        reason=data if data in PARTNER_READS else "account",
        detail={"scope": scope, "data": data, "grant_id": grant.id},
        now=now,
    )
    await repository.touch_grant(session, grant.id, now)
    await session.commit()
    return Admission(
        person_id=grant.person_id,
        partner_id=partner.id,
        partner_name=partner.name,
        grant_id=grant.id,
        scopes=held,
    )


@dataclass(frozen=True, slots=True)
class GrantView:
    grant_id: int
    partner_name: str
    company: str
    scopes: list[str]
    scope_names: list[str]
    granted_at: datetime
    last_used_at: datetime | None
    live: bool
    ends_at: datetime | None  # when it ends by itself if unused
    ended_at: datetime | None
    ended_reason: str | None


async def grants_for_person(session: AsyncSession, clock: Clock, person_id: int) -> list[GrantView]:
    now = clock.now()
    views = []
    for row in await repository.grants_of_person(session, person_id):
        g = row.grant
        live = grant_is_live(g.granted_at, g.last_used_at, g.revoked_at, now)
        idle_end = grant_idle_until(g.granted_at, g.last_used_at)
        scopes = [s for s in SCOPES if s in g.scopes.split()]
        views.append(
            GrantView(
                grant_id=g.id,
                partner_name=row.partner_name,
                company=row.company,
                scopes=scopes,
                scope_names=[SCOPES[s][0] for s in scopes],
                granted_at=g.granted_at,
                last_used_at=g.last_used_at,
                live=live,
                ends_at=idle_end if live else None,
                ended_at=g.revoked_at or (None if live else idle_end),
                ended_reason=g.revoked_reason or (None if live else "idle"),
            )
        )
    return views


async def revoke_grant(session: AsyncSession, clock: Clock, person_id: int, grant_id: int) -> None:
    """The person ends a grant: its tokens are revoked in the same transaction."""
    grant = await repository.grant_of_person(session, person_id, grant_id)
    if grant is None:
        raise GrantNotFound("没有该授权")
    if grant.revoked_at is None:
        now = clock.now()
        grant.revoked_at, grant.revoked_reason = now, "person"
        await repository.revoke_grant_tokens(session, grant.id, now)
        await session.commit()


SWEEP_BATCH = 500
EXPIRED_SUBJECT = "应用授权已到期"


async def sweep_idle_grants(session: AsyncSession, clock: Clock) -> int:
    """The worker's sweep: a grant nobody used for 180 days is marked ended (`idle`, at the moment
    it stopped working, so 已授权的应用 shows the same time before and after the sweep), its
    tokens revoked, and the person told by an in-app notice. The grant already stopped working
    at that moment (`grant_is_live` on every call); the sweep makes it plain and final. One batch
    per call, committed; returns how many it ended (the caller runs it again while it is busy)."""
    now = clock.now()
    ended = 0
    for grant in await repository.idle_grants(session, now - GRANT_IDLE_LIMIT, SWEEP_BATCH):
        if grant_is_live(grant.granted_at, grant.last_used_at, grant.revoked_at, now):
            continue  # read again under the lock: used in the meantime
        grant.revoked_at = grant_idle_until(grant.granted_at, grant.last_used_at)
        grant.revoked_reason = "idle"
        await repository.revoke_grant_tokens(session, grant.id, now)
        partner = await repository.partner_by_id(session, grant.partner_id)
        name = partner.name if partner is not None else "第三方应用"
        await outbox.enqueue(
            session,
            channel=Channel.INAPP,
            dedup_key=f"partner-grant-idle:{grant.id}",
            subject=EXPIRED_SUBJECT,
            body=grant_expired_text(name),
            now=now,
            person_id=grant.person_id,
        )
        ended += 1
    await session.commit()
    return ended
