"""The JSON API of claims (报销), disputes (争议) and 查询记录, for the person signed in.

Every route takes the person from the principal, never from the URL: another person's claim,
document or dispute id answers 404 like one that does not exist.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile, status
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import service as audit
from yibao.claims.domain import (
    ATTACHMENT_NAMES,
    EVENT_NAMES,
    MED_TYPES,
    REJECTION_REASONS,
    STATUS_NAMES,
    ClaimDraft,
    InvalidClaim,
    InvalidDispute,
)
from yibao.claims.service import claim_reads, claims, disputes
from yibao.claims.tables import Claim, ClaimAttachment, ClaimStep, Dispute
from yibao.kernel.idnumber import mask_name
from yibao.kernel.money import InvalidAmount, format_yuan, parse_yuan
from yibao.kernel.uploads import DocumentStore
from yibao.runtime import Runtime
from yibao.web.auth import PersonDep, SteppedUpPersonDep
from yibao.web.deps import RuntimeDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["claims 报销与争议"])


def document_store(runtime: Runtime) -> DocumentStore:
    return DocumentStore(runtime.settings.var_dir / "uploads")


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


def parse_day(raw: str, label: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError as exc:
        raise InvalidClaim(f"{label}应为日期 YYYY-MM-DD") from exc


def parse_amount(raw: str, label: str) -> int:
    try:
        return parse_yuan(raw.strip() or "0", field=label)
    except InvalidAmount as exc:
        raise InvalidClaim(f"{label}应为金额（元），最多两位小数，如 1234.50") from exc


def draft_from_form(
    *,
    fixmedins_name: str,
    fixmedins_code: str,
    med_type: str,
    begin_date: str,
    end_date: str,
    medfee_sumamt: str,
    fulamt_ownpay_amt: str,
    diagnosis: str,
    not_settled_reason: str,
) -> ClaimDraft:
    return ClaimDraft(
        fixmedins_name=fixmedins_name,
        fixmedins_code=fixmedins_code or None,
        med_type=med_type,
        begin_date=parse_day(begin_date, "开始日期"),
        end_date=parse_day(end_date, "结束日期"),
        medfee_sumamt_fen=parse_amount(medfee_sumamt, "医疗费用总额"),
        fulamt_ownpay_amt_fen=parse_amount(fulamt_ownpay_amt, "全自费金额"),
        diagnosis=diagnosis,
        not_settled_reason=not_settled_reason,
    )


async def read_uploads(max_bytes: int, files: dict[str, list[UploadFile]]) -> list[claims.Upload]:
    """Read each file up to one byte past the limit, so an oversized one is refused unread."""
    uploads: list[claims.Upload] = []
    for kind, group in files.items():
        for upload in group:
            if not upload.filename and not upload.size:
                continue  # an empty file input on the form
            data = await upload.read(max_bytes + 1)
            uploads.append(claims.Upload(kind, upload.filename or "", data))
    return uploads


Text = Annotated[str, Form(max_length=200)]
Files = Annotated[list[UploadFile], File()]


@router.post("/claims", response_model=ClaimOut, status_code=status.HTTP_201_CREATED)
async def submit_claim(
    person: PersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
    request_key: Text,
    fixmedins_name: Text,
    med_type: Text,
    begin_date: Text,
    end_date: Text,
    medfee_sumamt: Text,
    diagnosis: Text,
    not_settled_reason: Text,
    fixmedins_code: Text = "",
    fulamt_ownpay_amt: Text = "0",
    invoice: Files = [],  # noqa: B006 - FastAPI reads the default, never mutates it
    itemised_list: Files = [],  # noqa: B006
    diagnosis_doc: Files = [],  # noqa: B006
) -> ClaimOut:
    """Submit a claim with its documents; the same request_key again returns the same claim."""
    draft = draft_from_form(
        fixmedins_name=fixmedins_name,
        fixmedins_code=fixmedins_code,
        med_type=med_type,
        begin_date=begin_date,
        end_date=end_date,
        medfee_sumamt=medfee_sumamt,
        fulamt_ownpay_amt=fulamt_ownpay_amt,
        diagnosis=diagnosis,
        not_settled_reason=not_settled_reason,
    )
    max_bytes = runtime.settings.upload_max_bytes
    uploads = await read_uploads(
        max_bytes,
        {"invoice": invoice, "itemised_list": itemised_list, "diagnosis": diagnosis_doc},
    )
    claim = await claims.submit_claim(
        session,
        document_store(runtime),
        runtime.clock,
        person_id=person.person_id,
        request_key=request_key,
        draft=draft,
        uploads=uploads,
        max_bytes=max_bytes,
    )
    return claim_out(claim)


@router.get("/claims", response_model=list[ClaimOut])
async def my_claims(person: PersonDep, session: SessionDep) -> list[ClaimOut]:
    return [claim_out(c) for c in await claim_reads.claims_for_person(session, person.person_id)]


@router.get("/claims/{claim_id}", response_model=ClaimProgressOut)
async def claim_progress(claim_id: int, person: PersonDep, session: SessionDep) -> ClaimProgressOut:
    """报销进度: the claim, each step with its time, and its documents."""
    return progress_out(await claim_reads.progress_for_person(session, person.person_id, claim_id))


@router.post("/claims/{claim_id}/withdraw", response_model=ClaimOut)
async def withdraw_claim(
    claim_id: int, person: PersonDep, runtime: RuntimeDep, session: SessionDep
) -> ClaimOut:
    claim = await claims.withdraw_claim(session, runtime.clock, person.person_id, claim_id)
    return claim_out(claim)


@router.get("/claims/{claim_id}/attachments/{attachment_id}")
async def claim_attachment(
    claim_id: int, attachment_id: int, person: PersonDep, runtime: RuntimeDep, session: SessionDep
) -> Response:
    return await claim_attachment_response(
        session, runtime, person.person_id, claim_id, attachment_id
    )


async def claim_attachment_response(
    session: AsyncSession, runtime: Runtime, person_id: int, claim_id: int, attachment_id: int
) -> Response:
    attachment, data = await claim_reads.attachment_for_person(
        session, document_store(runtime), person_id, claim_id, attachment_id
    )
    return document_response(attachment, data)


def document_response(attachment: ClaimAttachment, data: bytes) -> Response:
    return Response(
        data,
        media_type=attachment.content_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox",
            "Cache-Control": "private, no-store",
            "Content-Disposition": f'inline; filename="document-{attachment.id}"',
        },
    )


class LookupOut(BaseModel):
    id: int
    at: datetime
    who: str
    role: str
    office: str
    action: str
    reason: str


@router.get("/me/lookups", response_model=list[LookupOut])
async def my_lookups(person: SteppedUpPersonDep, session: SessionDep) -> list[LookupOut]:
    """查询记录: every look-up of my data by staff or partners (staff names masked)."""
    lines = await audit.lookups_for_person(session, person.person_id, limit=100)
    return [
        LookupOut(
            id=line.record_id,
            at=line.occurred_at,
            who=line.who,
            role=line.role_name,
            office=line.office,
            action=line.action_name,
            reason=line.reason,
        )
        for line in lines
    ]


class DisputeIn(BaseModel):
    entry_id: int | None = None
    audit_record_id: int | None = None
    statement: Annotated[str, Field(max_length=500)] = ""
    freeze: bool = False


class DisputeOut(BaseModel):
    id: int
    kind: str
    status: str
    froze_account: bool
    statement: str
    created_at: datetime
    outcome: str | None


def dispute_out(dispute: Dispute) -> DisputeOut:
    return DisputeOut(
        id=dispute.id,
        kind=dispute.kind,
        status=dispute.status,
        froze_account=dispute.froze_account,
        statement=dispute.statement,
        created_at=dispute.created_at,
        outcome=dispute.outcome,
    )


@router.post("/disputes", response_model=DisputeOut, status_code=status.HTTP_201_CREATED)
async def raise_dispute(
    body: DisputeIn, person: SteppedUpPersonDep, runtime: RuntimeDep, session: SessionDep
) -> DisputeOut:
    """这笔不是我: dispute one of my records (optionally freezing my account), or a look-up."""
    if (body.entry_id is None) == (body.audit_record_id is None):
        raise InvalidDispute("请指明一条消费记录或一条查询记录")
    if body.entry_id is not None:
        dispute = await disputes.dispute_entry(
            session,
            runtime.clock,
            person_id=person.person_id,
            entry_id=body.entry_id,
            statement=body.statement,
            freeze=body.freeze,
        )
    else:
        assert body.audit_record_id is not None
        dispute = await disputes.dispute_lookup(
            session,
            runtime.clock,
            person_id=person.person_id,
            audit_record_id=body.audit_record_id,
            statement=body.statement,
        )
    return dispute_out(dispute)


@router.get("/disputes", response_model=list[DisputeOut])
async def my_disputes(person: PersonDep, session: SessionDep) -> list[DisputeOut]:
    return [dispute_out(d) for d in await disputes.disputes_for_person(session, person.person_id)]
