"""Registering partner apps: staff propose and another administrator approves (maker-checker);
an operator at the command line adds, suspends and rotates alone.

A client secret is shown once, to whoever approves or rotates, and only its hash is kept.
Suspending a partner revokes every token it holds in the same transaction, so its next call is
refused whatever process answers it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import repository as audit_repository
from yibao.audit.domain import ActorType
from yibao.kernel.actors import StaffActor
from yibao.kernel.clock import Clock
from yibao.kernel.ids import new_token
from yibao.partners import repository
from yibao.partners.domain import (
    APPROVE_ROLES,
    PROPOSE_ROLES,
    InvalidPartner,
    PartnerDecided,
    PartnerNotFound,
    PartnerStatus,
    check_checker,
    check_registration,
    check_roles,
)
from yibao.partners.tables import Partner

OPERATOR = "命令行操作员"


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_client_id() -> str:
    return "yb_" + secrets.token_hex(10)


@dataclass(frozen=True, slots=True)
class Registration:
    name: str
    company: str
    redirect_uris: list[str]
    scopes: list[str]
    rate_limit_per_minute: int
    public_keys: str | None = None


@dataclass(frozen=True, slots=True)
class Credentials:
    """What the partner's developers are given once: the client id and its secret."""

    partner: Partner
    client_secret: str


def redirect_uris_of(partner: Partner) -> list[str]:
    uris: list[str] = json.loads(partner.redirect_uris_json)
    return uris


def _new_partner(reg: Registration, *, by_id: int | None, by_name: str, clock: Clock) -> Partner:
    name, company, uris, scopes, keys = check_registration(
        reg.name,
        reg.company,
        reg.redirect_uris,
        reg.scopes,
        reg.rate_limit_per_minute,
        reg.public_keys,
    )
    return Partner(
        client_id=new_client_id(),
        name=name,
        company=company,
        redirect_uris_json=json.dumps(uris, ensure_ascii=False),
        scopes=" ".join(scopes),
        rate_limit_per_minute=reg.rate_limit_per_minute,
        public_keys_json=keys,
        status=PartnerStatus.PROPOSED.value,
        proposed_by_staff_id=by_id,
        proposed_by_name=by_name,
        proposed_at=clock.now(),
    )


async def _record(
    session: AsyncSession,
    clock: Clock,
    staff: StaffActor | None,
    action: str,
    partner: Partner,
    detail: dict[str, Any] | None = None,
) -> None:
    detail = {"partner_id": partner.id, "client_id": partner.client_id, **(detail or {})}
    if staff is not None:
        await audit_repository.record_staff_action(
            session, staff, action, None, partner.name, detail, clock.now()
        )
        return
    await audit_repository.record(
        session,
        actor_type=ActorType.SYSTEM.value,
        actor_id="cli",
        actor_name=OPERATOR,
        role="operator",
        office="",
        action=action,
        subject_person_id=None,
        reason=partner.name,
        detail=detail,
        now=clock.now(),
    )


def _issue_secret(partner: Partner) -> str:
    secret = new_token(32)
    partner.secret_hash = secret_hash(secret)
    return secret


# --- staff (maker-checker) ---------------------------------------------------------------------


async def propose_partner(
    session: AsyncSession, clock: Clock, staff: StaffActor, registration: Registration
) -> Partner:
    check_roles(staff.roles, PROPOSE_ROLES, "登记合作应用")
    partner = _new_partner(registration, by_id=staff.staff_id, by_name=staff.name, clock=clock)
    await repository.add(session, partner)
    await _record(session, clock, staff, "partner.propose", partner)
    await session.commit()
    return partner


async def _pending(session: AsyncSession, partner_id: int) -> Partner:
    partner = await repository.partner_by_id(session, partner_id, lock=True)
    if partner is None:
        raise PartnerNotFound("没有该合作应用")
    if partner.status != PartnerStatus.PROPOSED:
        raise PartnerDecided("该合作应用已复核")
    return partner


async def approve_partner(
    session: AsyncSession, clock: Clock, staff: StaffActor, partner_id: int
) -> Credentials:
    check_roles(staff.roles, APPROVE_ROLES, "复核合作应用")
    partner = await _pending(session, partner_id)
    check_checker(partner.proposed_by_staff_id, staff.staff_id)
    secret = _issue_secret(partner)
    partner.status = PartnerStatus.ACTIVE.value
    partner.decided_by_staff_id = staff.staff_id
    partner.decided_by_name = staff.name
    partner.decided_at = clock.now()
    await _record(session, clock, staff, "partner.approve", partner)
    await session.commit()
    return Credentials(partner, secret)


async def reject_partner(
    session: AsyncSession, clock: Clock, staff: StaffActor, partner_id: int
) -> Partner:
    check_roles(staff.roles, APPROVE_ROLES, "复核合作应用")
    partner = await _pending(session, partner_id)
    check_checker(partner.proposed_by_staff_id, staff.staff_id)
    partner.status = PartnerStatus.REJECTED.value
    partner.decided_by_staff_id = staff.staff_id
    partner.decided_by_name = staff.name
    partner.decided_at = clock.now()
    await _record(session, clock, staff, "partner.reject", partner)
    await session.commit()
    return partner


async def _existing(session: AsyncSession, client_id: str) -> Partner:
    partner = await repository.partner_by_client_id(session, client_id, lock=True)
    if partner is None:
        raise PartnerNotFound("没有该合作应用")
    return partner


async def suspend_partner(
    session: AsyncSession, clock: Clock, client_id: str, *, staff: StaffActor | None = None
) -> Partner:
    """停用: the partner's every token stops working now, and it can get no new one."""
    if staff is not None:
        check_roles(staff.roles, APPROVE_ROLES, "停用合作应用")
    partner = await _existing(session, client_id)
    if partner.status != PartnerStatus.ACTIVE:
        raise PartnerDecided("只有已启用的合作应用可以停用")
    now = clock.now()
    partner.status = PartnerStatus.SUSPENDED.value
    partner.suspended_at = now
    await repository.revoke_partner_tokens(session, partner.id, now)
    await _record(session, clock, staff, "partner.suspend", partner)
    await session.commit()
    return partner


async def rotate_secret(
    session: AsyncSession, clock: Clock, client_id: str, *, staff: StaffActor | None = None
) -> Credentials:
    """A new client secret; the old one stops working at once (tokens already issued stay)."""
    if staff is not None:
        check_roles(staff.roles, APPROVE_ROLES, "更换合作应用密钥")
    partner = await _existing(session, client_id)
    if partner.status != PartnerStatus.ACTIVE:
        raise PartnerDecided("只有已启用的合作应用可以更换密钥")
    secret = _issue_secret(partner)
    partner.secret_rotated_at = clock.now()
    await _record(session, clock, staff, "partner.rotate", partner)
    await session.commit()
    return Credentials(partner, secret)


# --- the operator at the command line ---------------------------------------------------------


async def add_partner(
    session: AsyncSession, clock: Clock, registration: Registration
) -> Credentials:
    """`yibao partners add`: whoever runs the CLI already holds the deployment's keys, so a
    second person would add nothing there; the action is on the audit trail as the operator's."""
    partner = _new_partner(registration, by_id=None, by_name=OPERATOR, clock=clock)
    partner.status = PartnerStatus.ACTIVE.value
    partner.decided_by_name = OPERATOR
    partner.decided_at = partner.proposed_at
    secret = _issue_secret(partner)
    await repository.add(session, partner)
    await _record(session, clock, None, "partner.add", partner)
    await session.commit()
    return Credentials(partner, secret)


async def list_partners(session: AsyncSession, status: str | None = None) -> list[Partner]:
    if status is not None and status not in PartnerStatus.__members__.values():
        raise InvalidPartner("状态应为 proposed、active、rejected 或 suspended")
    return await repository.partners(session, status)
