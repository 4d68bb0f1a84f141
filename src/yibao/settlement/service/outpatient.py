"""A clinic's visit between registration and settlement: its information and diagnoses (2203),
withdrawing one charge batch of its fees (2205), and cancelling the registration (2202).

The `*_in` functions work on the message's session without committing (`messages.answering`
commits them with the answer).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.settlement import repository
from yibao.settlement.domain import Caller, InvalidBill, VisitSettled
from yibao.settlement.repository import visit_info
from yibao.settlement.service.visits import open_visit, person_by_psn_no
from yibao.settlement.tables import Visit, VisitDiagnosis
from yibao.settlement.visit_rules import (
    ALL_BATCHES,
    Diagnosis,
    VisitInfo,
    check_diagnoses,
    check_med_type,
    check_open,
    no_such_visit,
)

__all__ = [
    "ALL_BATCHES",
    "Diagnosis",
    "VisitInfo",
    "cancel_registration_in",
    "record_visit_info_in",
    "withdraw_fee_batch_in",
    "withdraw_visit_info",
]


async def record_visit_info_in(
    session: AsyncSession, institution: Caller, info: VisitInfo, *, msgid: str
) -> Visit:
    """2203: the visit's information and diagnoses, replacing what an earlier 2203 sent (an HIS
    sends the corrected whole again). The visit must be open: a settled visit's record is kept."""
    check_diagnoses(info)
    person = await person_by_psn_no(session, info.psn_no)
    visit = await open_visit(session, institution, info.mdtrt_id, person)
    check_med_type(info, visit.med_type)
    await visit_info.drop_diagnoses(session, visit.id)
    visit.main_cond_dscr = info.main_cond_dscr
    visit.dise_codg = info.dise_codg
    visit.dise_name = info.dise_name
    visit.info_msgid = msgid
    session.add_all(
        VisitDiagnosis(
            visit_id=visit.id,
            diag_type=d.diag_type,
            diag_srt_no=d.diag_srt_no,
            diag_code=d.diag_code,
            diag_name=d.diag_name,
            diag_dept=d.diag_dept,
            dise_dor_no=d.dise_dor_no,
            dise_dor_name=d.dise_dor_name,
            diag_time=d.diag_time,
            vali_flag=d.vali_flag,
            msgid=msgid,
        )
        for d in info.diagnoses
    )
    await session.flush()
    return visit


async def withdraw_visit_info(
    session: AsyncSession, institution: Caller, *, psn_no: str, msgid: str
) -> bool:
    """冲正 of the 2203 `msgid`: its diagnoses and the information it set are withdrawn (what an
    earlier 2203 sent is not restored: the HIS sends it again). Whether anything was left."""
    person = await person_by_psn_no(session, psn_no)
    mdtrt_id = await visit_info.visit_of_info(session, person.id, institution.fixmedins_code, msgid)
    if mdtrt_id is None:
        return False
    visit = await repository.visit_by_mdtrt_id(session, mdtrt_id, lock=True)
    if visit is None or visit.status == "cancelled":
        return False
    if visit.status == "settled":
        raise VisitSettled(f"就诊 {mdtrt_id} 已结算，不能冲正其就诊信息上传；请先撤销结算（2208）")
    await visit_info.drop_diagnoses(session, visit.id, msgid)
    if visit.info_msgid == msgid:
        visit.main_cond_dscr = visit.dise_codg = visit.dise_name = visit.info_msgid = None
    await session.flush()
    return True


async def _own_visit(
    session: AsyncSession, institution: Caller, mdtrt_id: str, person_id: int, *, doing: str
) -> Visit:
    """The institution's visit of the person, locked and still open (else refused, saying why:
    another's visit is "none" whatever its state)."""
    visit = await repository.visit_by_mdtrt_id(session, mdtrt_id.strip(), lock=True)
    if (
        visit is None
        or visit.fixmedins_code != institution.fixmedins_code
        or visit.person_id != person_id
    ):
        raise no_such_visit(mdtrt_id)
    check_open(visit.status, mdtrt_id, doing=doing)
    return visit


async def withdraw_fee_batch_in(
    session: AsyncSession, institution: Caller, *, psn_no: str, mdtrt_id: str, chrg_bchno: str
) -> int:
    """2205: withdraw the open visit's fee lines of one charge batch (`0000`: every line); how
    many. A settled visit's lines are its settlement's: cancel that first (2208)."""
    person = await person_by_psn_no(session, psn_no)
    visit = await _own_visit(session, institution, mdtrt_id, person.id, doing="撤销费用明细")
    batch = None if chrg_bchno == ALL_BATCHES else chrg_bchno
    withdrawn = await visit_info.withdraw_batch(session, visit.id, batch)
    if not withdrawn:
        raise InvalidBill(f"就诊 {mdtrt_id} 没有收费批次 chrg_bchno={chrg_bchno} 的未结算费用明细")
    return withdrawn


async def cancel_registration_in(
    session: AsyncSession, institution: Caller, *, psn_no: str, mdtrt_id: str
) -> Visit:
    """2202: cancel an open visit (its unsettled fee lines go with it). A settled visit is
    refused until its settlement is cancelled (2208); a cancelled one cannot be cancelled again."""
    person = await person_by_psn_no(session, psn_no)
    visit = await _own_visit(session, institution, mdtrt_id, person.id, doing="撤销挂号")
    visit.status = "cancelled"
    await session.flush()
    return visit
