"""The person's pages: 报销 (submit with photos, 报销进度), 查询记录, and "这笔不是我"."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from yibao.audit import service as audit
from yibao.claims.domain import (
    ATTACHMENT_NAMES,
    DISPUTE_OUTCOMES,
    DISPUTE_STATUS_NAMES,
    EVENT_NAMES,
    MED_TYPES,
    NOT_SETTLED_REASONS,
    REJECTION_REASONS,
    STATUS_NAMES,
)
from yibao.claims.service import claim_reads, claims, disputes
from yibao.kernel.errors import DomainError
from yibao.kernel.ids import new_token
from yibao.kernel.money import format_yuan
from yibao.ledger.domain import ENTRY_KIND_NAMES, EntryKind
from yibao.web.api.claims import (
    claim_attachment_response,
    document_store,
    draft_from_form,
    read_uploads,
    step_out,
)
from yibao.web.auth import PersonDep, SteppedUpPersonDep
from yibao.web.deps import RuntimeDep, SessionDep
from yibao.web.errors import status_for
from yibao.web.sessions import verify_csrf

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])

Text = Annotated[str, Form(max_length=200)]
Files = Annotated[list[UploadFile], File()]

NAMES: dict[str, Any] = {
    "status_names": STATUS_NAMES,
    "event_names": EVENT_NAMES,
    "med_types": MED_TYPES,
    "not_settled_reasons": NOT_SETTLED_REASONS,
    "attachment_names": ATTACHMENT_NAMES,
    "rejection_reasons": REJECTION_REASONS,
    "dispute_status_names": DISPUTE_STATUS_NAMES,
    "dispute_outcomes": DISPUTE_OUTCOMES,
}


def _page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, template, {**NAMES, **context}, status_code=status
    )
    return response


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/claims", response_class=HTMLResponse)
async def claims_page(request: Request, person: PersonDep, session: SessionDep) -> HTMLResponse:
    return _page(
        request,
        "claims.html",
        claims=await claim_reads.claims_for_person(session, person.person_id),
    )


@router.get("/claims/new", response_class=HTMLResponse)
async def new_claim_page(request: Request, person: PersonDep) -> HTMLResponse:
    # One key per form shown: a double tap or a retried post of this form makes one claim.
    return _page(request, "claim_form.html", form={}, request_key=new_token(16), action="/claims")


@router.post("/claims", response_class=HTMLResponse)
async def submit_claim(
    request: Request,
    person: PersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
    request_key: Text,
    fixmedins_name: Text = "",
    fixmedins_code: Text = "",
    med_type: Text = "",
    begin_date: Text = "",
    end_date: Text = "",
    medfee_sumamt: Text = "",
    fulamt_ownpay_amt: Text = "0",
    diagnosis: Text = "",
    not_settled_reason: Text = "",
    invoice: Files = [],  # noqa: B006 - FastAPI reads the default, never mutates it
    itemised_list: Files = [],  # noqa: B006
    diagnosis_doc: Files = [],  # noqa: B006
) -> Response:
    form = {
        "fixmedins_name": fixmedins_name,
        "fixmedins_code": fixmedins_code,
        "med_type": med_type,
        "begin_date": begin_date,
        "end_date": end_date,
        "medfee_sumamt": medfee_sumamt,
        "fulamt_ownpay_amt": fulamt_ownpay_amt,
        "diagnosis": diagnosis,
        "not_settled_reason": not_settled_reason,
    }
    try:
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
            draft=draft_from_form(**form),
            uploads=uploads,
            max_bytes=max_bytes,
        )
    except DomainError as exc:
        return _page(
            request,
            "claim_form.html",
            status_for(exc),
            form=form,
            request_key=request_key,
            action="/claims",
            error=exc.message,
        )
    return _see_other(f"/claims/{claim.id}")


@router.get("/claims/{claim_id}", response_class=HTMLResponse)
async def claim_page(
    request: Request, claim_id: int, person: PersonDep, session: SessionDep
) -> HTMLResponse:
    """报销进度: each step with its time; staff named masked."""
    progress = await claim_reads.progress_for_person(session, person.person_id, claim_id)
    return _page(
        request,
        "claim.html",
        claim=progress.claim,
        steps=[step_out(s) for s in progress.steps],
        attachments=progress.attachments,
        yuan=format_yuan,
    )


@router.post("/claims/{claim_id}/withdraw")
async def withdraw(
    claim_id: int, person: PersonDep, runtime: RuntimeDep, session: SessionDep
) -> Response:
    await claims.withdraw_claim(session, runtime.clock, person.person_id, claim_id)
    return _see_other(f"/claims/{claim_id}")


@router.get("/claims/{claim_id}/resubmit", response_class=HTMLResponse)
async def resubmit_page(
    request: Request, claim_id: int, person: PersonDep, session: SessionDep
) -> HTMLResponse:
    claim = (await claim_reads.progress_for_person(session, person.person_id, claim_id)).claim
    form = {
        "fixmedins_name": claim.fixmedins_name,
        "fixmedins_code": claim.fixmedins_code or "",
        "med_type": claim.med_type,
        "begin_date": claim.begin_date.isoformat(),
        "end_date": claim.end_date.isoformat(),
        "medfee_sumamt": format_yuan(claim.medfee_sumamt_fen),
        "fulamt_ownpay_amt": format_yuan(claim.fulamt_ownpay_amt_fen),
        "diagnosis": claim.diagnosis,
        "not_settled_reason": claim.not_settled_reason,
    }
    return _page(
        request,
        "claim_form.html",
        form=form,
        request_key="",
        action=f"/claims/{claim.id}/resubmit",
        resubmission=True,
        claim=claim,
    )


@router.post("/claims/{claim_id}/resubmit", response_class=HTMLResponse)
async def resubmit(
    request: Request,
    claim_id: int,
    person: PersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
    fixmedins_name: Text = "",
    fixmedins_code: Text = "",
    med_type: Text = "",
    begin_date: Text = "",
    end_date: Text = "",
    medfee_sumamt: Text = "",
    fulamt_ownpay_amt: Text = "0",
    diagnosis: Text = "",
    not_settled_reason: Text = "",
    invoice: Files = [],  # noqa: B006
    itemised_list: Files = [],  # noqa: B006
    diagnosis_doc: Files = [],  # noqa: B006
) -> Response:
    form = {
        "fixmedins_name": fixmedins_name,
        "fixmedins_code": fixmedins_code,
        "med_type": med_type,
        "begin_date": begin_date,
        "end_date": end_date,
        "medfee_sumamt": medfee_sumamt,
        "fulamt_ownpay_amt": fulamt_ownpay_amt,
        "diagnosis": diagnosis,
        "not_settled_reason": not_settled_reason,
    }
    try:
        max_bytes = runtime.settings.upload_max_bytes
        uploads = await read_uploads(
            max_bytes,
            {"invoice": invoice, "itemised_list": itemised_list, "diagnosis": diagnosis_doc},
        )
        await claims.resubmit_claim(
            session,
            document_store(runtime),
            runtime.clock,
            person_id=person.person_id,
            claim_id=claim_id,
            draft=draft_from_form(**form),
            uploads=uploads,
            max_bytes=max_bytes,
        )
    except DomainError as exc:
        return _page(
            request,
            "claim_form.html",
            status_for(exc),
            form=form,
            request_key="",
            action=f"/claims/{claim_id}/resubmit",
            resubmission=True,
            error=exc.message,
        )
    return _see_other(f"/claims/{claim_id}")


@router.get("/claims/{claim_id}/documents/{attachment_id}")
async def claim_document(
    claim_id: int, attachment_id: int, person: PersonDep, runtime: RuntimeDep, session: SessionDep
) -> Response:
    return await claim_attachment_response(
        session, runtime, person.person_id, claim_id, attachment_id
    )


@router.get("/me/lookups", response_class=HTMLResponse)
async def lookups_page(
    request: Request, person: SteppedUpPersonDep, session: SessionDep
) -> HTMLResponse:
    """查询记录: who looked at my data, when, from which office, why."""
    lines = await audit.lookups_for_person(session, person.person_id, limit=100)
    return _page(request, "lookups.html", lines=lines)


@router.get("/disputes", response_class=HTMLResponse)
async def disputes_page(request: Request, person: PersonDep, session: SessionDep) -> HTMLResponse:
    return _page(
        request,
        "disputes.html",
        disputes=await disputes.disputes_for_person(session, person.person_id),
    )


@router.get("/disputes/new", response_class=HTMLResponse)
async def new_dispute_page(
    request: Request, entry_id: int, person: SteppedUpPersonDep, session: SessionDep
) -> HTMLResponse:
    """这笔不是我: the record as the person saw it, a note, and the choice to freeze at once."""
    entry = await disputes.entry_to_dispute(session, person.person_id, entry_id)
    return _page(
        request,
        "dispute_form.html",
        entry=entry,
        kind_name=ENTRY_KIND_NAMES.get(EntryKind(entry.kind), entry.kind),
        amount=format_yuan(entry.amount_fen),
    )


@router.post("/disputes/entry")
async def dispute_entry(
    person: SteppedUpPersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
    entry_id: Annotated[int, Form()],
    statement: Annotated[str, Form(max_length=500)] = "",
    freeze: Annotated[str, Form()] = "",
) -> Response:
    await disputes.dispute_entry(
        session,
        runtime.clock,
        person_id=person.person_id,
        entry_id=entry_id,
        statement=statement,
        freeze=freeze == "1",
    )
    return _see_other("/disputes")


@router.post("/disputes/lookup")
async def dispute_lookup(
    person: SteppedUpPersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
    audit_record_id: Annotated[int, Form()],
    statement: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    await disputes.dispute_lookup(
        session,
        runtime.clock,
        person_id=person.person_id,
        audit_record_id=audit_record_id,
        statement=statement,
    )
    return _see_other("/disputes")
