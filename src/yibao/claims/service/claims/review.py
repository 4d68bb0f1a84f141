"""What staff do with a claim: review, approve (the fund's share), reject, mark paid; each audited."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import repository as audit_repository
from yibao.claims import repository
from yibao.claims.domain import (
    REJECTION_REASONS,
    BillSplit,
    ClaimEvent,
    ClaimNotFound,
    ClaimStatus,
    InvalidClaim,
    StaffActor,
    check_rejection,
    check_split,
    check_staff_may,
    next_status,
)
from yibao.claims.service.claims.steps import by_staff, move
from yibao.claims.tables import Claim
from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.domain import is_retired
from yibao.kernel.clock import Clock
from yibao.kernel.money import format_yuan
from yibao.settlement import repository as settlement_repository
from yibao.settlement.domain import Policy, YearToDate, fund_share


async def _claim_for_staff(session: AsyncSession, claim_id: int) -> Claim:
    claim = await repository.claim_by_id(session, claim_id, lock=True)
    if claim is None:
        raise ClaimNotFound(f"没有编号为 {claim_id} 的报销申请")
    return claim


async def start_review(
    session: AsyncSession, clock: Clock, staff: StaffActor, claim_id: int
) -> Claim:
    check_staff_may(ClaimEvent.START_REVIEW, staff)
    claim = await _claim_for_staff(session, claim_id)
    now = clock.now()
    await move(session, claim, ClaimEvent.START_REVIEW, by_staff(staff), now)
    await audit_repository.record_staff_action(
        session, staff, "claim.review", claim.person_id, "claim_review", {"claim_id": claim.id}, now
    )
    await session.commit()
    return claim


async def policy_for(session: AsyncSession, person_id: int) -> Policy:
    """The same policy a settlement for this person would use (region, retiree ratio)."""
    enrolment = await enrolment_repository.main_enrolment(session, person_id)
    if enrolment is None:
        raise InvalidClaim("该参保人没有基本医疗保险参保记录，无法计算统筹支付")
    rules = enrolment_repository.rules_of(
        await enrolment_repository.region(session, enrolment.admdvs)
    )
    ratio = rules.retiree_fund_ratio_bp if is_retired(enrolment.psn_type) else rules.fund_ratio_bp
    return Policy(rules.deductible_fen, ratio, rules.yearly_cap_fen)


async def approve_claim(
    session: AsyncSession,
    clock: Clock,
    staff: StaffActor,
    claim_id: int,
    *,
    fulamt_ownpay_amt_fen: int,
    overlmt_selfpay_fen: int,
    preselfpay_amt_fen: int,
) -> Claim:
    """Approve with the split the reviewer confirmed. The fund's share is settlement's rule over
    the person's yearly accumulations, which the claim then adds to (deductible met, fund paid),
    so a claim and a settlement never both use up the same deductible."""
    check_staff_may(ClaimEvent.APPROVE, staff)
    claim = await _claim_for_staff(session, claim_id)
    next_status(ClaimStatus(claim.status), ClaimEvent.APPROVE)
    split = check_split(
        BillSplit(
            claim.medfee_sumamt_fen, fulamt_ownpay_amt_fen, overlmt_selfpay_fen, preselfpay_amt_fen
        )
    )
    policy = await policy_for(session, claim.person_id)
    year_of_claim = claim.begin_date.year
    year = await settlement_repository.lock_year(session, claim.person_id, year_of_claim)
    share = fund_share(split.inscp_scp_amt_fen, year, policy)
    await settlement_repository.move_year(
        session,
        settlement_repository.YearMove(
            claim.person_id,
            year_of_claim,
            YearToDate(
                year.deductible_used_fen + share.act_pay_dedc_fen,
                year.fund_paid_fen + share.hifp_pay_fen,
            ),
        ),
    )
    claim.fulamt_ownpay_amt_fen = split.fulamt_ownpay_amt_fen
    claim.overlmt_selfpay_fen = split.overlmt_selfpay_fen
    claim.preselfpay_amt_fen = split.preselfpay_amt_fen
    claim.inscp_scp_amt_fen = split.inscp_scp_amt_fen
    claim.act_pay_dedc_fen = share.act_pay_dedc_fen
    claim.hifp_pay_fen = share.hifp_pay_fen
    claim.psn_part_amt_fen = claim.medfee_sumamt_fen - share.hifp_pay_fen
    now = clock.now()
    await move(
        session,
        claim,
        ClaimEvent.APPROVE,
        by_staff(staff),
        now,
        note=f"统筹基金支付 {format_yuan(share.hifp_pay_fen)} 元",
    )
    await audit_repository.record_staff_action(
        session,
        staff,
        "claim.approve",
        claim.person_id,
        "claim_review",
        {"claim_id": claim.id, "hifp_pay_fen": share.hifp_pay_fen},
        now,
    )
    await session.commit()
    return claim


async def reject_claim(
    session: AsyncSession, clock: Clock, staff: StaffActor, claim_id: int, *, code: str, text: str
) -> Claim:
    check_staff_may(ClaimEvent.REJECT, staff)
    code, text = check_rejection(code, text)
    claim = await _claim_for_staff(session, claim_id)
    claim.reject_code = code
    claim.reject_text = text or None
    now = clock.now()
    note = REJECTION_REASONS[code] + (f"：{text}" if text else "")
    await move(session, claim, ClaimEvent.REJECT, by_staff(staff), now, note=note)
    await audit_repository.record_staff_action(
        session,
        staff,
        "claim.reject",
        claim.person_id,
        "claim_review",
        {"claim_id": claim.id, "code": code},
        now,
    )
    await session.commit()
    return claim


async def mark_paid(
    session: AsyncSession, clock: Clock, staff: StaffActor, claim_id: int, *, payment_ref: str
) -> Claim:
    check_staff_may(ClaimEvent.PAY, staff)
    payment_ref = payment_ref.strip()
    if not 4 <= len(payment_ref) <= 64:
        raise InvalidClaim("请填写支付流水号")
    claim = await _claim_for_staff(session, claim_id)
    claim.payment_ref = payment_ref
    now = clock.now()
    amount = format_yuan(claim.hifp_pay_fen or 0)
    await move(session, claim, ClaimEvent.PAY, by_staff(staff), now, note=f"已支付 {amount} 元")
    await audit_repository.record_staff_action(
        session,
        staff,
        "claim.pay",
        claim.person_id,
        "claim_review",
        {"claim_id": claim.id, "payment_ref": payment_ref},
        now,
    )
    await session.commit()
    return claim
