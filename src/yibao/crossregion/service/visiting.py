"""The treatment region's record of a hospital visit of a person insured elsewhere between
registration and settlement, and of its settlement afterwards (就医地, B).

2203 (visit information and diagnoses), 2205 (withdraw a charge batch of fee lines), 2202 (cancel
the registration) and the 2601 of a 2201 or 2203 change only B's own visit record: A holds nothing
of a visit until it is settled, so they need no call to A and work while A is down. They obey the
in-region visit's rules (`settlement.visit_rules`): the institution's own open visit of that
person, a settled one refused until its settlement is cancelled (2208). 5203 answers from B's
record of the settlement (A's figures as A answered them, the lines as B priced them). 2001 asks A
(`treatment` peer message), which applies the in-region entitlement rules and its 备案 rule.

These run inside the institution message's one transaction; nothing here commits.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.crossregion import repository
from yibao.crossregion.domain import Peer
from yibao.crossregion.link import PeerLink
from yibao.crossregion.service.treatment import open_visit
from yibao.kernel.clock import Clock
from yibao.kernel.errors import InvalidInput
from yibao.settlement.domain import Caller, InvalidBill, UnknownSettlement, VisitSettled
from yibao.settlement.visit_rules import ALL_BATCHES, VisitInfo, check_diagnoses, check_med_type


async def record_visit_info_in(
    session: AsyncSession, caller: Caller, info: VisitInfo, *, msgid: str
) -> repository.Visit:
    """2203: the visit's information and diagnoses, replacing an earlier 2203's (the HIS sends
    the corrected whole again)."""
    check_diagnoses(info)
    visit = await open_visit(session, caller, info.mdtrt_id, info.psn_no, doing="上传就诊信息")
    check_med_type(info, visit.med_type)
    kept = asdict(info)
    del kept["mdtrt_id"], kept["psn_no"]
    visit.info = json.dumps(kept, ensure_ascii=False)
    visit.info_msgid = msgid
    await session.flush()
    return visit


async def withdraw_visit_info(
    session: AsyncSession, caller: Caller, *, psn_no: str, msgid: str
) -> bool:
    """冲正 of the 2203 `msgid`: the information it set is withdrawn (an earlier 2203's is not
    restored). Whether anything was left to withdraw."""
    visit = await repository.visit_by_info_msgid(session, caller.fixmedins_code, msgid, lock=True)
    if visit is None or visit.status == "cancelled":
        return False
    if visit.psn_no != psn_no:
        raise InvalidInput(f"psn_no {psn_no} 与就诊信息上传 {msgid} 的参保人不符")
    if visit.status == "settled":
        raise VisitSettled(
            f"就诊 {visit.mdtrt_id} 已结算，不能冲正其就诊信息上传；请先撤销结算（2208）"
        )
    visit.info = visit.info_msgid = None
    await session.flush()
    return True


async def withdraw_fee_batch_in(
    session: AsyncSession, caller: Caller, *, psn_no: str, mdtrt_id: str, chrg_bchno: str
) -> int:
    """2205: withdraw the open visit's fee lines of one charge batch (`0000`: every line); how
    many. A settled visit's lines are its settlement's: cancel that first (2208)."""
    visit = await open_visit(session, caller, mdtrt_id, psn_no, doing="撤销费用明细")
    kept: list[dict[str, Any]] = json.loads(visit.fees)
    left = (
        [] if chrg_bchno == ALL_BATCHES else [r for r in kept if r.get("chrg_bchno") != chrg_bchno]
    )
    withdrawn = len(kept) - len(left)
    if not withdrawn:
        raise InvalidBill(f"就诊 {mdtrt_id} 没有收费批次 chrg_bchno={chrg_bchno} 的未结算费用明细")
    visit.fees = json.dumps(left)
    await session.flush()
    return withdrawn


async def cancel_registration_in(
    session: AsyncSession, clock: Clock, caller: Caller, *, psn_no: str, mdtrt_id: str
) -> repository.Visit:
    """2202: cancel an open visit (its unsettled fee lines go with it)."""
    visit = await open_visit(session, caller, mdtrt_id, psn_no, doing="撤销挂号")
    visit.status = "cancelled"
    visit.ended_at = clock.now()
    await session.flush()
    return visit


async def withdraw_registration(
    session: AsyncSession, clock: Clock, caller: Caller, *, psn_no: str, msgid: str
) -> bool:
    """2601 of a 2201: the visit it opened is cancelled as a 2202 would; whether it was still
    there. Another person's psn_no is refused (as in-region: "nothing" would let the hospital
    take an open visit for a withdrawn one); a settled visit needs its 2208 first."""
    visit = await repository.visit_by_msgid(session, msgid, lock=True)
    if visit is None or visit.fixmedins_code != caller.fixmedins_code:
        return False
    if visit.psn_no != psn_no:
        raise InvalidInput(f"psn_no {psn_no} 与挂号 {msgid} 的参保人不符")
    if visit.status == "cancelled":
        return False
    if visit.status == "settled":
        raise VisitSettled(f"就诊 {visit.mdtrt_id} 已结算，请先撤销结算（2208）再冲正挂号")
    visit.status = "cancelled"
    visit.ended_at = clock.now()
    await session.flush()
    return True


@dataclass(frozen=True, slots=True)
class CrossSettlementDetail:
    settlement: repository.Settlement
    figures: dict[str, Any]  # A's, as A answered the settle message
    items: list[dict[str, Any]]  # the lines as priced here
    person: dict[str, Any]  # gend, brdy, certno_masked as A named them (None when not kept)


async def settlement_detail(
    session: AsyncSession, caller: Caller, setl_id: str, psn_no: str
) -> CrossSettlementDetail:
    """5203: a cross-region settlement of this institution, from this side's record."""
    found = await repository.settlement_by_setl_id(session, setl_id.strip())
    if found is None or found.fixmedins_code != caller.fixmedins_code or found.psn_no != psn_no:
        raise UnknownSettlement(f"本机构没有该参保人的结算 setl_id={setl_id}")
    return CrossSettlementDetail(
        found,
        json.loads(found.answer),
        json.loads(found.items or "[]"),
        json.loads(found.person or "{}"),
    )


@dataclass(frozen=True, slots=True)
class Entitled:
    """One fund as A answered a 2001: `reasons` empty when it pays."""

    fund_pay_type: str
    fund_name: str
    check: str
    begndate: str
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CrossCheck:
    psn_no: str
    filed: bool
    funds: list[Entitled]


async def check_in(
    link: PeerLink, caller: Caller, peer: Peer, *, psn_no: str, insutype: str, med_type: str
) -> CrossCheck:
    """2001: A checks the person against its enrolment, year, account and 备案 rule."""
    answer = await link.send(
        peer,
        "treatment",
        {
            "treatment_admdvs": caller.admdvs,
            "psn_no": psn_no,
            "insutype": insutype,
            "med_type": med_type,
            "fixmedins_kind": caller.kind,
        },
    )
    return CrossCheck(
        str(answer["psn_no"]),
        bool(answer.get("filed")),
        [
            Entitled(
                str(f["fund_pay_type"]),
                str(f["fund_pay_type_name"]),
                str(f["trt_chk_type"]),
                str(f["begndate"]),
                tuple(str(r) for r in f["reasons"]),
            )
            for f in answer["trtinfo"]
        ],
    )
