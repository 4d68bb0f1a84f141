"""What the claims API answers: a claim, its steps and its documents, with names and yuan."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from yibao.claims.domain import (
    ATTACHMENT_NAMES,
    EVENT_NAMES,
    MED_TYPES,
    REJECTION_REASONS,
    STATUS_NAMES,
)
from yibao.claims.service import claim_reads
from yibao.claims.tables import Claim, ClaimAttachment, ClaimStep
from yibao.kernel.idnumber import mask_name
from yibao.kernel.money import format_yuan


class StepOut(BaseModel):
    event: str
    event_name: str
    status: str
    status_name: str
    at: datetime
    by: str
    office: str | None
    note: str | None


class AttachmentOut(BaseModel):
    id: int
    kind: str
    kind_name: str
    label: str
    content_type: str
    size_bytes: int
    round: int


class ClaimOut(BaseModel):
    id: int
    status: str
    status_name: str
    fixmedins_name: str
    fixmedins_code: str | None
    med_type: str
    med_type_name: str
    begin_date: date
    end_date: date
    diagnosis: str
    medfee_sumamt: str
    fulamt_ownpay_amt: str
    overlmt_selfpay: str | None
    preselfpay_amt: str | None
    inscp_scp_amt: str | None
    act_pay_dedc: str | None
    hifp_pay: str | None
    psn_part_amt: str | None
    reject_reason: str | None
    submitted_at: datetime
    round: int


class ClaimProgressOut(ClaimOut):
    steps: list[StepOut]
    attachments: list[AttachmentOut]


def _yuan(fen: int | None) -> str | None:
    return None if fen is None else format_yuan(fen)


def claim_out(claim: Claim) -> ClaimOut:
    reject = None
    if claim.reject_code:
        reject = REJECTION_REASONS[claim.reject_code] + (
            f"：{claim.reject_text}" if claim.reject_text else ""
        )
    return ClaimOut(
        id=claim.id,
        status=claim.status,
        status_name=STATUS_NAMES[claim.status],
        fixmedins_name=claim.fixmedins_name,
        fixmedins_code=claim.fixmedins_code,
        med_type=claim.med_type,
        med_type_name=MED_TYPES.get(claim.med_type, claim.med_type),
        begin_date=claim.begin_date,
        end_date=claim.end_date,
        diagnosis=claim.diagnosis,
        medfee_sumamt=format_yuan(claim.medfee_sumamt_fen),
        fulamt_ownpay_amt=format_yuan(claim.fulamt_ownpay_amt_fen),
        overlmt_selfpay=_yuan(claim.overlmt_selfpay_fen),
        preselfpay_amt=_yuan(claim.preselfpay_amt_fen),
        inscp_scp_amt=_yuan(claim.inscp_scp_amt_fen),
        act_pay_dedc=_yuan(claim.act_pay_dedc_fen),
        hifp_pay=_yuan(claim.hifp_pay_fen),
        psn_part_amt=_yuan(claim.psn_part_amt_fen),
        reject_reason=reject,
        submitted_at=claim.submitted_at,
        round=claim.round,
    )


def step_out(step: ClaimStep) -> StepOut:
    # Staff who acted are named masked for the claimant; the office is named in full.
    by = "本人" if step.actor_type == "person" else mask_name(step.actor_name)
    return StepOut(
        event=step.event,
        event_name=EVENT_NAMES[step.event],
        status=step.status,
        status_name=STATUS_NAMES[step.status],
        at=step.at,
        by=by,
        office=step.office,
        note=step.note,
    )


def attachment_out(attachment: ClaimAttachment) -> AttachmentOut:
    return AttachmentOut(
        id=attachment.id,
        kind=attachment.kind,
        kind_name=ATTACHMENT_NAMES[attachment.kind],
        label=attachment.label,
        content_type=attachment.content_type,
        size_bytes=attachment.size_bytes,
        round=attachment.round,
    )


def progress_out(progress: claim_reads.ClaimProgress) -> ClaimProgressOut:
    return ClaimProgressOut(
        **claim_out(progress.claim).model_dump(),
        steps=[step_out(s) for s in progress.steps],
        attachments=[attachment_out(a) for a in progress.attachments],
    )
