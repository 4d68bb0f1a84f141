"""Kiosks as devices: staff register and revoke them; the kiosk calls in with its key.

`authenticate` runs on every call a kiosk makes (its browser's pages and its bridge's reports),
so a revoked key stops working at once, and it records the contact for the staff page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import repository as audit_repository
from yibao.enrolment import repository as enrolment_repository
from yibao.kernel.actors import StaffActor
from yibao.kernel.clock import Clock, china_today
from yibao.kernel.errors import PermissionDenied
from yibao.kernel.ids import new_token
from yibao.kernel.pii import PersonalDataCipher
from yibao.kiosks import repository
from yibao.kiosks.domain import (
    KEY_BYTES,
    CardState,
    EndReason,
    KioskExists,
    UnknownKiosk,
    check_kiosk_id,
    check_place,
    is_stale,
    key_digest,
    printer_problem,
)
from yibao.kiosks.tables import Kiosk

KIOSK_ADMIN_ROLES = frozenset({"admin"})


class KioskAdminOnly(PermissionDenied):
    code = "kiosk_admin_only"


@dataclass(frozen=True, slots=True)
class Registered:
    kiosk_id: str
    place: str
    key: str  # shown once


@dataclass(frozen=True, slots=True)
class KioskStatus:
    kiosk_id: str
    place: str
    registered_at: datetime
    revoked_at: datetime | None
    last_seen_at: datetime | None
    stale: bool
    printer_state: str | None
    printer_problem: str | None
    card_state: str
    sessions_today: int


def _may_administer(staff: StaffActor | None) -> None:
    if staff is not None and not staff.roles & KIOSK_ADMIN_ROLES:
        raise KioskAdminOnly("只有管理员可以登记或停用自助查询机")


def _by(staff: StaffActor | None) -> str:
    return f"staff:{staff.staff_id}" if staff else "cli"


async def register_kiosk(
    session: AsyncSession, clock: Clock, staff: StaffActor | None, *, kiosk_id: str, place: str
) -> Registered:
    """`staff` None: the operator's CLI."""
    _may_administer(staff)
    kiosk_id, place = check_kiosk_id(kiosk_id), check_place(place)
    if await repository.kiosk(session, kiosk_id) is not None:
        raise KioskExists(f"编号 {kiosk_id} 已登记过；停用的查询机请换一个新编号登记")
    key = new_token(KEY_BYTES)
    now = clock.now()
    session.add(
        Kiosk(
            id=kiosk_id,
            place=place,
            key_hash=key_digest(key),
            registered_at=now,
            registered_by=_by(staff),
            card_state=CardState.NONE.value,
        )
    )
    if staff is not None:
        await audit_repository.record_staff_action(
            session, staff, "kiosk.register", None, "", {"kiosk": kiosk_id, "place": place}, now
        )
    await session.commit()
    return Registered(kiosk_id, place, key)


async def revoke_kiosk(
    session: AsyncSession, clock: Clock, staff: StaffActor | None, kiosk_id: str
) -> None:
    _may_administer(staff)
    found = await repository.kiosk(session, kiosk_id.strip(), lock=True)
    if found is None:
        raise UnknownKiosk(f"没有编号为 {kiosk_id} 的自助查询机")
    now = clock.now()
    if found.revoked_at is None:
        found.revoked_at = now
    await repository.end_sessions(session, found.id, EndReason.REVOKED, now)
    if staff is not None:
        await audit_repository.record_staff_action(
            session, staff, "kiosk.revoke", None, "", {"kiosk": found.id}, now
        )
    await session.commit()


async def kiosk_statuses(session: AsyncSession, clock: Clock) -> list[KioskStatus]:
    now = clock.now()
    today = await repository.sessions_on(session, china_today(clock))
    return [
        KioskStatus(
            kiosk_id=k.id,
            place=k.place,
            registered_at=k.registered_at,
            revoked_at=k.revoked_at,
            last_seen_at=k.last_seen_at,
            stale=k.revoked_at is None and is_stale(k.last_seen_at, now),
            printer_state=k.printer_state,
            printer_problem=k.printer_problem,
            card_state=k.card_state,
            sessions_today=today.get(k.id, 0),
        )
        for k in await repository.all_kiosks(session)
    ]


async def authenticate(session: AsyncSession, key: str) -> Kiosk:
    """The kiosk behind a key; refused when unknown or revoked. Does not commit."""
    return await repository.authenticated_kiosk(session, key)


async def heartbeat(
    session: AsyncSession, clock: Clock, key: str, printer: dict[str, Any]
) -> list[int]:
    """The bridge calls in every few seconds with its printer's state; the answer is the print
    jobs waiting for it."""
    found = await authenticate(session, key)
    state = printer.get("state")
    reasons = [str(r) for r in printer.get("reasons", []) if isinstance(r, str)][:20]
    found.last_seen_at = clock.now()
    found.printer_state = str(state)[:20] if isinstance(state, str) else None
    found.printer_problem = printer_problem(found.printer_state, reasons)
    jobs = await repository.queued_jobs(session, found.id)
    await session.commit()
    return jobs


async def report_card(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    clock: Clock,
    key: str,
    *,
    present: bool,
    reader: bool = True,
    card_no: str | None = None,
    ssn: str | None = None,
    problem: str | None = None,
) -> CardState:
    """What the bridge read from the reader. A card leaving (or the reader going) ends every
    session open at the kiosk; a card that is not a social-security card of someone enrolled
    is refused with a sentence the screen shows until it is taken out."""
    found = await authenticate(session, key)
    now = clock.now()
    was_present = found.card_state == CardState.PRESENT
    was_person = found.card_person_id
    found.last_seen_at = now
    found.card_person_id = None
    found.card_no = None
    found.card_message = None
    if not reader or not present:
        found.card_state = (CardState.NONE if reader else CardState.NO_READER).value
        reason = EndReason.CARD_REMOVED if reader else EndReason.READER_LOST
        if not reader:
            found.card_message = "读卡器连接中断，请联系工作人员"
        await repository.end_sessions(session, found.id, reason, now)
        await session.commit()
        return CardState(found.card_state)
    person = None
    if problem is None and card_no and ssn:
        person = await enrolment_repository.person_by_card_no(session, card_no.strip())
        if person is not None:
            expected = cipher.lookup_hash(
                ssn.strip().upper(), purpose=enrolment_repository.ID_PURPOSE
            )
            person = person if person.id_number_hash == expected else None
        if person is None:
            problem = "这张社保卡没有参保登记信息，请到医保窗口咨询"
    same_card = (
        person is not None and was_present and was_person == person.id
    )  # a bridge that restarted reports the card still in: the session goes on
    if person is None:
        found.card_state = CardState.REFUSED.value
        found.card_message = problem or "无法识别这张卡，请插入社会保障卡（芯片朝上）"
    else:
        found.card_state = CardState.PRESENT.value
        found.card_person_id = person.id
        found.card_no = person.card_no
    if not same_card:
        # A new card means a new person: whatever was open at this kiosk ends now.
        await repository.end_sessions(session, found.id, EndReason.REPLACED, now)
    await session.commit()
    return CardState(found.card_state)
