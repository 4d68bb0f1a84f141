"""Queries of 异地就医 between deployments (never commits)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.crossregion.domain import (
    ClaimStatus,
    ClearingTotals,
    HomePolicy,
    SettlementMode,
    UnfiledRule,
    WhenUnreachable,
)
from yibao.crossregion.domain import Peer as PeerRow
from yibao.crossregion.tables import Claim, HomeRule, InboxMessage, Peer, Settlement, Visit
from yibao.enrolment import repository as enrolment_repository

__all__ = [
    "Claim",
    "InboxMessage",
    "Settlement",
    "Visit",
    "all_peers",
    "claim_by_message",
    "claims_of_day",
    "claims_paid_elsewhere",
    "clearing_at_home",
    "clearing_at_treatment",
    "home_policy",
    "peer_of",
    "peers_of_deployment",
    "settlement_by_msgid",
    "settlements_of_day",
    "undelivered_cash",
]


def _peer(row: Peer) -> PeerRow:
    return PeerRow(
        row.admdvs,
        row.region_name,
        row.deployment,
        row.base_url,
        row.public_key,
        row.local,
        WhenUnreachable(row.when_unreachable or WhenUnreachable.REFUSE.value),
        row.next_public_key or None,
    )


async def all_peers(session: AsyncSession) -> list[PeerRow]:
    rows = (await session.execute(select(Peer).order_by(Peer.admdvs))).scalars()
    return [_peer(r) for r in rows]


async def peer_of(session: AsyncSession, admdvs: str) -> PeerRow | None:
    row = await session.get(Peer, admdvs)
    return None if row is None else _peer(row)


async def peers_of_deployment(session: AsyncSession, deployment: str) -> list[PeerRow]:
    rows = (await session.execute(select(Peer).where(Peer.deployment == deployment))).scalars()
    return [_peer(r) for r in rows]


async def put_peer(session: AsyncSession, peer: PeerRow) -> None:
    row = await session.get(Peer, peer.admdvs)
    if row is None:
        session.add(
            Peer(
                admdvs=peer.admdvs,
                region_name=peer.region_name,
                deployment=peer.deployment,
                base_url=peer.base_url,
                public_key=peer.public_key,
                local=peer.local,
                when_unreachable=peer.when_unreachable.value,
                next_public_key=peer.next_public_key,
            )
        )
    else:
        row.region_name = peer.region_name
        row.deployment = peer.deployment
        row.base_url = peer.base_url
        row.public_key = peer.public_key
        row.local = peer.local
        row.when_unreachable = peer.when_unreachable.value
        row.next_public_key = peer.next_public_key
    await session.flush()


async def put_home_rule(session: AsyncSession, admdvs: str, rule: UnfiledRule, cut_bp: int) -> None:
    row = await session.get(HomeRule, admdvs)
    if row is None:
        session.add(HomeRule(admdvs=admdvs, unfiled_rule=rule.value, unfiled_ratio_cut_bp=cut_bp))
    else:
        row.unfiled_rule = rule.value
        row.unfiled_ratio_cut_bp = cut_bp
    await session.flush()


async def home_policy(session: AsyncSession, admdvs: str) -> HomePolicy:
    rules = await enrolment_repository.region_rules(session, admdvs)
    home = await session.get(HomeRule, admdvs)
    return HomePolicy(
        admdvs=admdvs,
        deductible_fen=rules.deductible_fen,
        fund_ratio_bp=rules.fund_ratio_bp,
        retiree_fund_ratio_bp=rules.retiree_fund_ratio_bp,
        yearly_cap_fen=rules.yearly_cap_fen,
        class_b_selfpay_bp=rules.class_b_selfpay_bp,
        unfiled_rule=UnfiledRule(home.unfiled_rule) if home else UnfiledRule.REFUSE,
        unfiled_ratio_cut_bp=home.unfiled_ratio_cut_bp if home else 0,
    )


async def claim_by_message(
    session: AsyncSession, message_id: str, *, lock: bool = False
) -> Claim | None:
    stmt = select(Claim).where(Claim.message_id == message_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def claims_of_day(session: AsyncSession, treatment_admdvs: str, day: date) -> list[Claim]:
    stmt = select(Claim).where(Claim.treatment_admdvs == treatment_admdvs, Claim.settled_on == day)
    return list((await session.execute(stmt.order_by(Claim.id))).scalars())


async def claims_paid_elsewhere(
    session: AsyncSession, person_id: int, *, limit: int = 50
) -> list[Claim]:
    """A person's bills paid in full in another region while this deployment was unreachable
    (零星报销 candidates), newest first."""
    stmt = (
        select(Claim)
        .where(Claim.person_id == person_id, Claim.status == ClaimStatus.CASH.value)
        .order_by(Claim.created_at.desc(), Claim.id.desc())
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def undelivered_cash(session: AsyncSession, now: datetime, limit: int) -> list[Settlement]:
    """Cash records due for delivery to their home region, locked; another worker skips them."""
    stmt = (
        select(Settlement)
        .where(
            Settlement.mode == SettlementMode.CASH.value,
            Settlement.delivered_at.is_(None),
            Settlement.next_delivery_at <= now,
        )
        .order_by(Settlement.next_delivery_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(stmt)).scalars())


async def settlement_by_msgid(session: AsyncSession, msgid: str) -> Settlement | None:
    stmt = select(Settlement).where(Settlement.msgid == msgid)
    return (await session.execute(stmt)).scalar_one_or_none()


async def settlement_by_setl_id(
    session: AsyncSession, setl_id: str, *, lock: bool = False
) -> Settlement | None:
    stmt = select(Settlement).where(Settlement.setl_id == setl_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def settlements_of_day(
    session: AsyncSession, home_admdvs: str, day: date
) -> list[Settlement]:
    stmt = select(Settlement).where(
        Settlement.home_admdvs == home_admdvs, Settlement.settled_on == day
    )
    return list((await session.execute(stmt.order_by(Settlement.setl_id))).scalars())


async def visit(session: AsyncSession, mdtrt_id: str, *, lock: bool = False) -> Visit | None:
    stmt = select(Visit).where(Visit.mdtrt_id == mdtrt_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def visit_by_msgid(session: AsyncSession, msgid: str, *, lock: bool = False) -> Visit | None:
    stmt = select(Visit).where(Visit.msgid == msgid)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def visit_by_info_msgid(
    session: AsyncSession, fixmedins_code: str, msgid: str, *, lock: bool = False
) -> Visit | None:
    """The visit whose visit information the 2203 `msgid` (still) holds."""
    stmt = select(Visit).where(Visit.fixmedins_code == fixmedins_code, Visit.info_msgid == msgid)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalars().first()


async def inbox(session: AsyncSession, message_id: str) -> InboxMessage | None:
    return await session.get(InboxMessage, message_id)


def _month_days(month: str) -> tuple[date, date]:
    year, mon = (int(x) for x in month.split("-"))
    start = date(year, mon, 1)
    end = date(year + (mon == 12), mon % 12 + 1, 1)
    return start, end


async def clearing_at_home(
    session: AsyncSession, month: str, home_admdvs: str, treatment_admdvs: str
) -> ClearingTotals:
    """The month's settled claims of this home region's insured in `treatment_admdvs`."""
    start, end = _month_days(month)
    stmt = select(
        func.count(Claim.id),
        func.coalesce(func.sum(Claim.medfee_sumamt_fen), 0),
        func.coalesce(func.sum(Claim.fund_pay_fen), 0),
        func.coalesce(func.sum(Claim.acct_pay_fen), 0),
        func.coalesce(func.sum(Claim.cash_pay_fen), 0),
    ).where(
        Claim.treatment_admdvs == treatment_admdvs,
        Claim.home_admdvs == home_admdvs,
        Claim.status == "settled",
        Claim.settled_on >= start,
        Claim.settled_on < end,
    )
    row = (await session.execute(stmt)).one()
    return ClearingTotals(month, treatment_admdvs, home_admdvs, *(int(v) for v in row))


async def clearing_at_treatment(
    session: AsyncSession, month: str, treatment_admdvs: str, home_admdvs: str
) -> ClearingTotals:
    start, end = _month_days(month)
    stmt = select(
        func.count(Settlement.setl_id),
        func.coalesce(func.sum(Settlement.medfee_sumamt_fen), 0),
        func.coalesce(func.sum(Settlement.fund_pay_fen), 0),
        func.coalesce(func.sum(Settlement.acct_pay_fen), 0),
        func.coalesce(func.sum(Settlement.cash_pay_fen), 0),
    ).where(
        Settlement.home_admdvs == home_admdvs,
        Settlement.status == "settled",
        # A cash settlement moved no money between the regions (A answers its claims `cash`).
        Settlement.mode == SettlementMode.DIRECT.value,
        Settlement.settled_on >= start,
        Settlement.settled_on < end,
    )
    row = (await session.execute(stmt)).one()
    return ClearingTotals(month, treatment_admdvs, home_admdvs, *(int(v) for v in row))
