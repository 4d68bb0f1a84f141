"""Claim use cases: submit (idempotent), withdraw, resubmit; review, approve, reject, pay."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import repository as audit_repository
from yibao.claims import repository
from yibao.claims.domain import (
    EVENT_NAMES,
    REJECTION_REASONS,
    BillSplit,
    ClaimDraft,
    ClaimEvent,
    ClaimNotFound,
    ClaimStatus,
    InvalidClaim,
    StaffActor,
    check_attachment_kinds,
    check_draft,
    check_rejection,
    check_split,
    check_staff_may,
    next_status,
)
from yibao.claims.service.effects import notify
from yibao.claims.tables import Claim, ClaimAttachment, ClaimStep
from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.domain import is_retired
from yibao.kernel.clock import Clock, china_today
from yibao.kernel.money import format_yuan
from yibao.kernel.uploads import CleanDocument, DocumentStore, StoredDocument, clean, label
from yibao.settlement import repository as settlement_repository
from yibao.settlement.domain import Policy, YearToDate, fund_share

_REQUEST_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


@dataclass(frozen=True, slots=True)
class Upload:
    kind: str
    filename: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Actor:
    """Who moved a claim, as the step records it."""

    actor_type: str
    actor_id: int
    name: str
    office: str | None = None


def _person(person_id: int) -> Actor:
    return Actor("person", person_id, "本人")


def _staff(staff: StaffActor) -> Actor:
    return Actor("staff", staff.staff_id, staff.name, staff.office)


async def _store_all(
    store: DocumentStore, cleaned: list[tuple[Upload, CleanDocument]]
) -> list[tuple[Upload, StoredDocument]]:
    stored: list[tuple[Upload, StoredDocument]] = []
    try:
        for upload, document in cleaned:
            stored.append((upload, await store.save(document)))
    except BaseException:
        await _discard(store, stored)
        raise
    return stored


async def _discard(store: DocumentStore, stored: list[tuple[Upload, StoredDocument]]) -> None:
    for _, document in stored:
        await store.remove(document.storage_name)


def _attachments(
    claim: Claim, stored: list[tuple[Upload, StoredDocument]], now: datetime
) -> list[ClaimAttachment]:
    return [
        ClaimAttachment(
            claim_id=claim.id,
            kind=upload.kind,
            storage_name=document.storage_name,
            content_type=document.content_type.value,
            size_bytes=document.size_bytes,
            sha256=document.sha256,
            label=label(upload.filename),
            round=claim.round,
            uploaded_at=now,
        )
        for upload, document in stored
    ]


async def _move(
    session: AsyncSession,
    claim: Claim,
    event: ClaimEvent,
    actor: Actor,
    now: datetime,
    note: str | None = None,
) -> ClaimStep:
    claim.status = next_status(ClaimStatus(claim.status), event).value
    claim.updated_at = now
    return await _record_step(session, claim, event, actor, now, note)


async def _record_step(
    session: AsyncSession,
    claim: Claim,
    event: ClaimEvent,
    actor: Actor,
    now: datetime,
    note: str | None = None,
) -> ClaimStep:
    """The step on 报销进度, and a notice to the person about it (outbox, after commit)."""
    step = ClaimStep(
        claim_id=claim.id,
        event=event.value,
        status=claim.status,
        actor_type=actor.actor_type,
        actor_id=actor.actor_id,
        actor_name=actor.name,
        office=actor.office,
        note=note,
        at=now,
    )
    session.add(step)
    await session.flush()
    await notify(
        session,
        claim.person_id,
        f"claim:{claim.id}:step:{step.id}",
        "报销进度",
        f"您在{claim.fixmedins_name}的报销申请（{format_yuan(claim.medfee_sumamt_fen)} 元）"
        f"：{EVENT_NAMES[event.value]}" + (f"。{note}" if note else ""),
        now,
    )
    return step


def _clean_uploads(uploads: list[Upload], max_bytes: int) -> list[tuple[Upload, CleanDocument]]:
    return [(u, clean(u.data, max_bytes=max_bytes)) for u in uploads]


async def submit_claim(
    session: AsyncSession,
    store: DocumentStore,
    clock: Clock,
    *,
    person_id: int,
    request_key: str,
    draft: ClaimDraft,
    uploads: list[Upload],
    max_bytes: int,
) -> Claim:
    """Submit a claim; the same request key again returns the first claim, never a second."""
    if not _REQUEST_KEY.match(request_key):
        raise InvalidClaim("请求编号无效，请刷新页面后重新提交")
    existing = await repository.claim_by_key(session, person_id, request_key)
    if existing is not None:
        return existing
    now = clock.now()
    draft = check_draft(draft, china_today(clock))
    check_attachment_kinds([u.kind for u in uploads], resubmission=False)
    stored = await _store_all(store, _clean_uploads(uploads, max_bytes))
    claim = Claim(
        person_id=person_id,
        request_key=request_key,
        status=next_status(None, ClaimEvent.SUBMIT).value,
        fixmedins_name=draft.fixmedins_name,
        fixmedins_code=draft.fixmedins_code,
        med_type=draft.med_type,
        begin_date=draft.begin_date,
        end_date=draft.end_date,
        diagnosis=draft.diagnosis,
        not_settled_reason=draft.not_settled_reason,
        medfee_sumamt_fen=draft.medfee_sumamt_fen,
        fulamt_ownpay_amt_fen=draft.fulamt_ownpay_amt_fen,
        round=1,
        submitted_at=now,
        updated_at=now,
    )
    try:
        session.add(claim)
        await session.flush()
    except IntegrityError:
        # The same key committed by a concurrent request: that claim is the answer.
        await _discard(store, stored)
        await session.rollback()
        first = await repository.claim_by_key(session, person_id, request_key)
        if first is None:
            raise
        return first
    try:
        session.add_all(_attachments(claim, stored, now))
        await _record_step(session, claim, ClaimEvent.SUBMIT, _person(person_id), now)
        await session.commit()
    except BaseException:
        await session.rollback()
        await _discard(store, stored)
        raise
    return claim


async def _own_claim(session: AsyncSession, person_id: int, claim_id: int) -> Claim:
    claim = await repository.claim_of_person(session, person_id, claim_id, lock=True)
    if claim is None:
        raise ClaimNotFound("没有找到这笔报销申请")
    return claim


async def withdraw_claim(
    session: AsyncSession, clock: Clock, person_id: int, claim_id: int
) -> Claim:
    claim = await _own_claim(session, person_id, claim_id)
    await _move(session, claim, ClaimEvent.WITHDRAW, _person(person_id), clock.now())
    await session.commit()
    return claim


async def resubmit_claim(
    session: AsyncSession,
    store: DocumentStore,
    clock: Clock,
    *,
    person_id: int,
    claim_id: int,
    draft: ClaimDraft,
    uploads: list[Upload],
    max_bytes: int,
) -> Claim:
    """Correct a rejected claim and submit it again; earlier documents stay with it."""
    claim = await _own_claim(session, person_id, claim_id)
    next_status(ClaimStatus(claim.status), ClaimEvent.RESUBMIT)  # refuse early, before files
    draft = check_draft(draft, china_today(clock))
    check_attachment_kinds([u.kind for u in uploads], resubmission=True)
    stored = await _store_all(store, _clean_uploads(uploads, max_bytes))
    try:
        now = clock.now()
        claim.round += 1
        for field in (
            "fixmedins_name",
            "fixmedins_code",
            "med_type",
            "begin_date",
            "end_date",
            "diagnosis",
            "not_settled_reason",
            "medfee_sumamt_fen",
            "fulamt_ownpay_amt_fen",
        ):
            setattr(claim, field, getattr(draft, field))
        claim.reject_code = None
        claim.reject_text = None
        session.add_all(_attachments(claim, stored, now))
        await _move(session, claim, ClaimEvent.RESUBMIT, _person(person_id), now)
        await session.commit()
    except BaseException:
        await session.rollback()
        await _discard(store, stored)
        raise
    return claim


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
    await _move(session, claim, ClaimEvent.START_REVIEW, _staff(staff), now)
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
    year = await settlement_repository.lock_year(session, claim.person_id, claim.begin_date.year)
    share = fund_share(
        split.inscp_scp_amt_fen, YearToDate(year.deductible_used_fen, year.fund_paid_fen), policy
    )
    year.deductible_used_fen += share.act_pay_dedc_fen
    year.fund_paid_fen += share.hifp_pay_fen
    claim.fulamt_ownpay_amt_fen = split.fulamt_ownpay_amt_fen
    claim.overlmt_selfpay_fen = split.overlmt_selfpay_fen
    claim.preselfpay_amt_fen = split.preselfpay_amt_fen
    claim.inscp_scp_amt_fen = split.inscp_scp_amt_fen
    claim.act_pay_dedc_fen = share.act_pay_dedc_fen
    claim.hifp_pay_fen = share.hifp_pay_fen
    claim.psn_part_amt_fen = claim.medfee_sumamt_fen - share.hifp_pay_fen
    now = clock.now()
    await _move(
        session,
        claim,
        ClaimEvent.APPROVE,
        _staff(staff),
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
    await _move(session, claim, ClaimEvent.REJECT, _staff(staff), now, note=note)
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
    await _move(session, claim, ClaimEvent.PAY, _staff(staff), now, note=f"已支付 {amount} 元")
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
