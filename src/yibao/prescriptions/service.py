"""Use cases of 电子处方线下流转授权. They run inside an interface message's unit of work
(settlement.service.answering commits them with the stored answer)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.domain import EnrolmentStatus, UnknownPerson
from yibao.kernel.clock import CHINA_TZ, Clock
from yibao.prescriptions import repository
from yibao.prescriptions.domain import (
    ACTIVE,
    PrescriptionRefused,
    PrescriptionTaken,
    check_prescribed_at,
    valid_until,
)
from yibao.prescriptions.tables import PrescriptionAuthorisation
from yibao.settlement import repository as settlement_repository
from yibao.settlement.domain import Caller


@dataclass(frozen=True, slots=True)
class AuthorisationRequest:
    hi_rxno: str
    psn_no: str
    prsc_fixmedins_code: str
    prescribed_at: datetime  # Beijing wall time as sent
    rx_trace_code: str = ""
    phar_name: str = ""


@dataclass(frozen=True, slots=True)
class Authorisation:
    auth_no: str
    hi_rxno: str
    psn_no: str
    fixmedins_code: str
    status: str
    authorised_at: datetime
    expires_at: datetime


def _view(row: PrescriptionAuthorisation, psn_no: str) -> Authorisation:
    return Authorisation(
        auth_no=row.auth_no,
        hi_rxno=row.hi_rxno,
        psn_no=psn_no,
        fixmedins_code=row.fixmedins_code,
        status=row.status,
        authorised_at=row.authorised_at,
        expires_at=row.expires_at,
    )


async def authorise_in(
    session: AsyncSession,
    clock: Clock,
    pharmacy: Caller,
    request: AuthorisationRequest,
    *,
    msgid: str,
    where: str,
) -> Authorisation:
    """7201: authorise the pharmacy to dispense the prescription, or give back the
    authorisation it holds already."""
    now = clock.now()
    prescribed_at = request.prescribed_at.replace(tzinfo=CHINA_TZ)
    check_prescribed_at(prescribed_at, now, where)
    person = await enrolment_repository.person_by_psn_no(session, request.psn_no)
    if person is None:
        raise UnknownPerson(f"未找到人员编号 psn_no={request.psn_no} 的参保人")
    enrolments = await enrolment_repository.enrolments_of(session, person.id)
    if not any(
        e.insutype in {"310", "390"} and e.status == EnrolmentStatus.NORMAL for e in enrolments
    ):
        raise PrescriptionRefused(f"参保人 {request.psn_no} 没有正常参保的基本医疗保险")
    prescriber = await settlement_repository.institution_by_code(
        session, request.prsc_fixmedins_code
    )
    if prescriber is None or prescriber.kind != "H":
        raise PrescriptionRefused(f"{where}.prsc_fixmedins_code 不是定点医疗机构")
    held = await repository.active_for(session, request.hi_rxno)
    if held is not None:
        if held.person_id != person.id:
            raise PrescriptionRefused(f"{where}.hi_rxno 对应的处方不属于该参保人")
        if held.fixmedins_code != pharmacy.fixmedins_code:
            raise PrescriptionTaken("该处方已授权其他定点药店线下流转，不能重复授权")
        return _view(held, person.psn_no)
    row = PrescriptionAuthorisation(
        auth_no=f"RA{now.astimezone(CHINA_TZ):%Y%m%d%H%M%S}{secrets.randbelow(10**8):08d}",
        hi_rxno=request.hi_rxno,
        person_id=person.id,
        fixmedins_code=pharmacy.fixmedins_code,
        prsc_fixmedins_code=request.prsc_fixmedins_code,
        prescribed_at=prescribed_at,
        rx_trace_code=request.rx_trace_code,
        phar_name=request.phar_name,
        status=ACTIVE,
        authorised_at=now,
        expires_at=valid_until(prescribed_at),
        msgid=msgid,
    )
    repository.add(session, row)
    await session.flush()
    return _view(row, person.psn_no)


async def revoke_authorisation(
    session: AsyncSession, clock: Clock, pharmacy: Caller, msgid: str, psn_no: str
) -> Authorisation | None:
    """2601 of a 7201: the authorisation that message made is revoked. None when it made none
    (it gave back one held already, or never arrived) or it is revoked already."""
    row = await repository.by_msgid(session, msgid, pharmacy.fixmedins_code)
    if row is None:
        return None
    person = await enrolment_repository.person(session, row.person_id)
    if person is None or person.psn_no != psn_no:
        raise PrescriptionRefused("参保人不符：psn_no 不是原交易的参保人")
    if not await repository.revoke(session, row.id, clock.now()):
        return None
    return _view(row, psn_no)
