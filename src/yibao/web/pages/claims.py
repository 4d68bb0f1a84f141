"""The person's pages: 报销 (submit with photos, 报销进度), 查询记录, and "这笔不是我"."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

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
from yibao.claims.tables import Claim
from yibao.kernel.errors import DomainError
from yibao.kernel.ids import new_token
from yibao.kernel.money import format_yuan
from yibao.ledger.domain import ENTRY_KIND_NAMES, EntryKind
from yibao.runtime import Runtime
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
from yibao.web.ids import RequiredRowIdQuery, RowId, RowIdForm
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


def _claim_form(
    fixmedins_name: Text = "",
    fixmedins_code: Text = "",
    med_type: Text = "",
    begin_date: Text = "",
    end_date: Text = "",
    medfee_sumamt: Text = "",
    fulamt_ownpay_amt: Text = "0",
    diagnosis: Text = "",
    not_settled_reason: Text = "",
) -> dict[str, str]:
    """The claim form's fields as typed, to check and, if refused, to show again."""
    return {
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


def _claim_files(
    invoice: Files = [],  # noqa: B006 - FastAPI reads the default, never mutates it
    itemised_list: Files = [],  # noqa: B006
    diagnosis_doc: Files = [],  # noqa: B006
) -> dict[str, list[UploadFile]]:
    return {"invoice": invoice, "itemised_list": itemised_list, "diagnosis": diagnosis_doc}


# submit_claim or resubmit_claim, with the claim it is about (its request key or its id) bound.
ClaimUseCase = Callable[..., Awaitable[Claim]]


def _form_page(
    request: Request, form: dict[str, str], action: str, status: int = 200, **context: Any
) -> HTMLResponse:
    return _page(request, "claim_form.html", status, form=form, action=action, **context)


@dataclass(frozen=True, slots=True)
class _PostedClaim:
    """A posted claim form, to submit or resubmit alike."""

    request: Request
    runtime: Runtime
    session: AsyncSession
    person_id: int
    form: dict[str, str]
    files: dict[str, list[UploadFile]]

    async def send(self, use_case: ClaimUseCase, *, action: str, **context: Any) -> Response:
        """A refusal shows the form again as typed, with its reason; success shows the claim."""
        try:
            max_bytes = self.runtime.settings.upload_max_bytes
            uploads = await read_uploads(max_bytes, self.files)
            claim = await use_case(
                self.session,
                document_store(self.runtime),
                self.runtime.clock,
                person_id=self.person_id,
                draft=draft_from_form(**self.form),
                uploads=uploads,
                max_bytes=max_bytes,
            )
        except DomainError as exc:
            return _form_page(
                self.request, self.form, action, status_for(exc), error=exc.message, **context
            )
        return _see_other(f"/claims/{claim.id}")


def _posted_claim(
    request: Request,
    person: PersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
    form: Annotated[dict[str, str], Depends(_claim_form)],
    files: Annotated[dict[str, list[UploadFile]], Depends(_claim_files)],
) -> _PostedClaim:
    return _PostedClaim(request, runtime, session, person.person_id, form, files)


PostedClaim = Annotated[_PostedClaim, Depends(_posted_claim)]


Prefill = Annotated[str, Query(max_length=200)]


@router.get("/claims/new", response_class=HTMLResponse)
async def new_claim_page(
    request: Request,
    person: PersonDep,
    fixmedins_name: Prefill = "",
    fixmedins_code: Prefill = "",
    med_type: Prefill = "",
    begin_date: Prefill = "",
    end_date: Prefill = "",
    medfee_sumamt: Prefill = "",
    not_settled_reason: Prefill = "",
) -> HTMLResponse:
    # The form may come filled in from a record that leads here (消费记录's 异地全额自付: the
    # bill's place, day and amount); the person still checks it and adds the documents.
    form = {
        name: value
        for name, value in {
            "fixmedins_name": fixmedins_name,
            "fixmedins_code": fixmedins_code,
            "med_type": med_type,
            "begin_date": begin_date,
            "end_date": end_date,
            "medfee_sumamt": medfee_sumamt,
            "not_settled_reason": not_settled_reason,
        }.items()
        if value
    }
    # One key per form shown: a double tap or a retried post of this form makes one claim.
    return _form_page(request, form, "/claims", request_key=new_token(16))


@router.post("/claims", response_class=HTMLResponse)
async def submit_claim(posted: PostedClaim, request_key: Text) -> Response:
    submit = partial(claims.submit_claim, request_key=request_key)
    return await posted.send(submit, action="/claims", request_key=request_key)


@router.get("/claims/{claim_id}", response_class=HTMLResponse)
async def claim_page(
    request: Request, claim_id: RowId, person: PersonDep, session: SessionDep
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
    claim_id: RowId, person: PersonDep, runtime: RuntimeDep, session: SessionDep
) -> Response:
    await claims.withdraw_claim(session, runtime.clock, person.person_id, claim_id)
    return _see_other(f"/claims/{claim_id}")


@router.get("/claims/{claim_id}/resubmit", response_class=HTMLResponse)
async def resubmit_page(
    request: Request, claim_id: RowId, person: PersonDep, session: SessionDep
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
    return _form_page(
        request,
        form,
        f"/claims/{claim.id}/resubmit",
        request_key="",
        resubmission=True,
        claim=claim,
    )


@router.post("/claims/{claim_id}/resubmit", response_class=HTMLResponse)
async def resubmit(claim_id: RowId, posted: PostedClaim) -> Response:
    resubmit = partial(claims.resubmit_claim, claim_id=claim_id)
    return await posted.send(
        resubmit, action=f"/claims/{claim_id}/resubmit", request_key="", resubmission=True
    )


@router.get("/claims/{claim_id}/documents/{attachment_id}")
async def claim_document(
    claim_id: RowId,
    attachment_id: RowId,
    person: PersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
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
    request: Request, entry_id: RequiredRowIdQuery, person: SteppedUpPersonDep, session: SessionDep
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
    entry_id: RowIdForm,
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
    audit_record_id: RowIdForm,
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
