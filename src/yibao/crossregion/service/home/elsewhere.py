"""The home region's record of a bill its insured paid in full elsewhere (参保地, A).

When a treatment region (B) could not reach this deployment and this region allows it
(`when_unreachable: cash` in the directory), B settled the bill in cash and delivers its record
here afterwards (kind `cash`, retried by B's worker until taken). The record is kept as a claim
in status `cash` under the same settle message id, so:

- a record delivered twice is kept once (the claim is there: the same answer);
- a debit this side had made under that id (B timed out after our commit) is reversed first:
  the person paid B in full, so the account gives back what it paid and the year gives back the
  deductible and the fund it used; the claim then says `cash`;
- a settle message arriving after the record is refused (`_claim_answer`), never debited;
- a claim already reversed (B's institution cancelled the bill, or the reversal overtook) stays
  reversed: nothing to claim back.

The person sees it on 消费记录 (web/pages/account.py) as 异地全额自付, with the way to 零星报销,
and gets an in-app message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.crossregion import repository
from yibao.crossregion.domain import BadPeerMessage, ClaimStatus
from yibao.crossregion.service.home.answers import _treatment_region
from yibao.crossregion.service.home.settling import reverse_claim_in
from yibao.crossregion.service.inbound import Sender, int_field, text_field
from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.domain import UnknownPerson
from yibao.kernel.money import format_yuan
from yibao.notifications import repository as notifications
from yibao.notifications.domain import Channel
from yibao.runtime import Runtime
from yibao.settlement.domain import NotInsured


async def to_cash_in(
    runtime: Runtime,
    session: AsyncSession,
    sender: Sender,
    treatment: str,
    claim: repository.Claim,
    why: str,
) -> None:
    """A settled claim whose bill B settled in cash: our debit and the year's use reversed, the
    claim kept as paid in full elsewhere."""
    await reverse_claim_in(runtime, session, sender, treatment, claim.message_id, why)
    claim.status = ClaimStatus.CASH.value
    claim.cash_pay_fen = claim.medfee_sumamt_fen
    claim.fund_pay_fen = 0
    claim.acct_pay_fen = 0
    claim.act_pay_dedc_fen = 0
    await session.flush()


async def record_cash(runtime: Runtime, sender: Sender, payload: dict[str, Any]) -> dict[str, Any]:
    treatment = _treatment_region(sender, payload)
    message_id = text_field(payload, "message_id", 80)
    if not message_id.startswith(f"{sender.deployment}:"):
        raise BadPeerMessage("message_id 应以发送方部署名开头")
    for attempt in (1, 2):
        async with runtime.sessions() as session:
            try:
                status = await _record_in(runtime, session, sender, treatment, payload)
                await session.commit()
                return {"status": status}
            except IntegrityError:
                # Two copies at once: the other kept the claim first; the next pass sees it.
                await session.rollback()
                if attempt == 2:
                    raise
    raise AssertionError("unreachable")


async def _record_in(
    runtime: Runtime,
    session: AsyncSession,
    sender: Sender,
    treatment: str,
    payload: dict[str, Any],
) -> str:
    message_id = text_field(payload, "message_id", 80)
    claim = await repository.claim_by_message(session, message_id, lock=True)
    if claim is not None:
        if claim.status == ClaimStatus.SETTLED:
            await to_cash_in(
                runtime,
                session,
                sender,
                treatment,
                claim,
                "就医地按全额自付结算（参保地当时无法连接）：退回本笔个人账户支付",
            )
            await _tell(runtime, session, claim)
        return claim.status
    psn_no = text_field(payload, "psn_no", 30)
    found = await enrolment_repository.insured_with_cover(session, psn_no)
    if found is None:
        raise UnknownPerson(f"参保地未找到人员编号 psn_no={psn_no} 的参保人")
    insured, covers = found
    local = [c for c in covers if (p := await repository.peer_of(session, c.admdvs)) and p.local]
    if not local:
        raise NotInsured(f"参保人 {psn_no} 的参保地不由本平台服务")
    settled_on = date.fromisoformat(text_field(payload, "settled_on", 10))
    total = int_field(payload, "medfee_sumamt_fen")
    if int_field(payload, "cash_pay_fen") != total:
        raise BadPeerMessage("全额自付记录的 cash_pay_fen 应等于 medfee_sumamt_fen")
    claim = repository.Claim(
        message_id=message_id,
        status=ClaimStatus.CASH.value,
        treatment_admdvs=treatment,
        home_admdvs=local[0].admdvs,
        sender=sender.deployment,
        setl_id=text_field(payload, "setl_id", 30),
        person_id=insured.id,
        psn_no=insured.psn_no,
        fixmedins_code=text_field(payload, "fixmedins_code", 12),
        fixmedins_name=str(payload.get("fixmedins_name") or "")[:100],
        med_type=text_field(payload, "med_type", 4),
        insutype=str(payload.get("insutype") or local[0].insutype)[:3],
        year=settled_on.year,
        medfee_sumamt_fen=total,
        fulamt_ownpay_fen=int_field(payload, "fulamt_ownpay_fen"),
        overlmt_selfpay_fen=int_field(payload, "overlmt_selfpay_fen"),
        preselfpay_fen=int_field(payload, "preselfpay_fen"),
        inscp_scp_fen=int_field(payload, "inscp_scp_fen"),
        act_pay_dedc_fen=0,
        fund_pay_fen=0,
        acct_pay_fen=0,
        cash_pay_fen=total,
        balc_fen=0,
        filed=True,
        settled_on=settled_on,
        created_at=runtime.clock.now(),
    )
    session.add(claim)
    await session.flush()
    await _tell(runtime, session, claim)
    return claim.status


async def _tell(runtime: Runtime, session: AsyncSession, claim: repository.Claim) -> None:
    region = await repository.peer_of(session, claim.treatment_admdvs)
    place = region.region_name if region else claim.treatment_admdvs
    await notifications.enqueue(
        session,
        channel=Channel.INAPP,
        dedup_key=f"xr-cash:{claim.message_id}",
        subject="异地就医全额自付，可申请零星报销",
        body=(
            f"您在{place}{claim.fixmedins_name or ''}就医时，参保地医保平台暂时无法连接，"
            f"本笔 {format_yuan(claim.medfee_sumamt_fen)} 元已全额自付，统筹基金和个人账户均未支付。"
            "请凭票据在“零星报销”申请报销。"
        ),
        now=runtime.clock.now(),
        person_id=claim.person_id,
    )


@dataclass(frozen=True, slots=True)
class PaidElsewhere:
    """A bill the person paid in full in another region (消费记录's 异地全额自付), with what the
    零星报销 form is filled in with."""

    setl_id: str
    place: str
    region_name: str
    fixmedins_code: str
    med_type: str
    day: date
    medfee_sumamt_fen: int

    @property
    def claim_form(self) -> dict[str, str]:
        return {
            "fixmedins_name": self.place,
            "fixmedins_code": self.fixmedins_code,
            "med_type": self.med_type,
            "begin_date": self.day.isoformat(),
            "end_date": self.day.isoformat(),
            "medfee_sumamt": format_yuan(self.medfee_sumamt_fen),
            "not_settled_reason": "home_unreachable",
        }


async def paid_elsewhere(session: AsyncSession, person_id: int) -> list[PaidElsewhere]:
    """The person's bills paid in full elsewhere while this deployment was unreachable (reads)."""
    rows = await repository.claims_paid_elsewhere(session, person_id)
    names = {p.admdvs: p.region_name for p in await repository.all_peers(session)}
    return [
        PaidElsewhere(
            setl_id=c.setl_id or "",
            place=c.fixmedins_name or "",
            region_name=names.get(c.treatment_admdvs, c.treatment_admdvs),
            fixmedins_code=c.fixmedins_code or "",
            med_type=c.med_type or "",
            day=c.settled_on,
            medfee_sumamt_fen=c.medfee_sumamt_fen,
        )
        for c in rows
    ]
