"""The routes of the claims API: 报销, 查询记录 and 争议 (disputes)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile, status
from fastapi.responses import Response
from pydantic import BaseModel, Field

from yibao.audit import service as audit
from yibao.claims.domain import InvalidDispute
from yibao.claims.service import claim_reads, claims, disputes
from yibao.claims.tables import Dispute
from yibao.web.api.claims.documents import claim_attachment_response, document_store
from yibao.web.api.claims.forms import draft_from_form, read_uploads
from yibao.web.api.claims.views import ClaimOut, ClaimProgressOut, claim_out, progress_out
from yibao.web.auth import PersonDep, SteppedUpPersonDep
from yibao.web.deps import RuntimeDep, SessionDep
from yibao.web.ids import RowId, RowIdField

router = APIRouter(prefix="/api/v1", tags=["claims 报销与争议"])


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
async def claim_progress(
    claim_id: RowId, person: PersonDep, session: SessionDep
) -> ClaimProgressOut:
    """报销进度: the claim, each step with its time, and its documents."""
    return progress_out(await claim_reads.progress_for_person(session, person.person_id, claim_id))


@router.post("/claims/{claim_id}/withdraw", response_model=ClaimOut)
async def withdraw_claim(
    claim_id: RowId, person: PersonDep, runtime: RuntimeDep, session: SessionDep
) -> ClaimOut:
    claim = await claims.withdraw_claim(session, runtime.clock, person.person_id, claim_id)
    return claim_out(claim)


@router.get("/claims/{claim_id}/attachments/{attachment_id}")
async def claim_attachment(
    claim_id: RowId,
    attachment_id: RowId,
    person: PersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> Response:
    return await claim_attachment_response(
        session, runtime, person.person_id, claim_id, attachment_id
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
    entry_id: RowIdField | None = None
    audit_record_id: RowIdField | None = None
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
