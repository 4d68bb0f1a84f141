"""The counter's workbench (/staff): find a person with a reason, read-only views with masking
and audited unmask, review queues for claims and disputes, maker-checker adjustments, and the
audit trail for administrators. Identity's middleware guarantees the second factor."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from yibao.audit import service as audit
from yibao.audit.domain import ACTION_NAMES, LOOKUP_KEYS, LOOKUP_REASONS, ROLE_NAMES
from yibao.claims.domain import (
    ATTACHMENT_NAMES,
    DISPUTE_OUTCOMES,
    DISPUTE_STATUS_NAMES,
    EVENT_NAMES,
    MED_TYPES,
    NOT_SETTLED_REASONS,
    REJECTION_REASONS,
    STATUS_NAMES,
    InvalidProposal,
)
from yibao.claims.service import adjustments, claims, disputes, workbench
from yibao.enrolment.domain import ENROLMENT_STATUS_NAMES, INSUTYPE_NAMES, PSN_TYPE_NAMES
from yibao.kernel.actors import StaffActor
from yibao.kernel.money import format_yuan
from yibao.ledger.domain import ENTRY_KIND_NAMES
from yibao.web.api.claims import document_response, document_store, parse_amount, step_out
from yibao.web.auth import StaffDep, StaffPrincipal
from yibao.web.deps import RuntimeDep, SessionDep
from yibao.web.sessions import verify_csrf

router = APIRouter(prefix="/staff", include_in_schema=False, dependencies=[Depends(verify_csrf)])

Text = Annotated[str, Form(max_length=500)]

NAMES: dict[str, Any] = {
    "lookup_reasons": LOOKUP_REASONS,
    "lookup_keys": LOOKUP_KEYS,
    "status_names": STATUS_NAMES,
    "event_names": EVENT_NAMES,
    "med_types": MED_TYPES,
    "not_settled_reasons": NOT_SETTLED_REASONS,
    "attachment_names": ATTACHMENT_NAMES,
    "rejection_reasons": REJECTION_REASONS,
    "dispute_status_names": DISPUTE_STATUS_NAMES,
    "dispute_outcomes": DISPUTE_OUTCOMES,
    "insutype_names": INSUTYPE_NAMES,
    "psn_type_names": PSN_TYPE_NAMES,
    "enrolment_status_names": ENROLMENT_STATUS_NAMES,
    "entry_kind_names": {k.value: v for k, v in ENTRY_KIND_NAMES.items()},
    "action_names": ACTION_NAMES,
    "role_names": ROLE_NAMES,
}


def actor(staff: StaffPrincipal) -> StaffActor:
    return StaffActor(staff.staff_id, staff.name, staff.roles, staff.office)


def _page(request: Request, template: str, staff: StaffPrincipal, **context: Any) -> HTMLResponse:
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, template, {**NAMES, "staff": staff, **context}
    )
    return response


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --- find a person ------------------------------------------------------------------------------


@router.get("/persons", response_class=HTMLResponse)
async def find_page(request: Request, staff: StaffDep) -> HTMLResponse:
    return _page(request, "staff_find.html", staff, results=None, form={})


@router.post("/persons", response_class=HTMLResponse)
async def find(
    request: Request,
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    reason: Text = "",
    by: Text = "",
    value: Text = "",
) -> HTMLResponse:
    persons = await audit.look_up_person(
        session, runtime.cipher, runtime.clock, actor(staff), by=by, value=value, reason=reason
    )
    form = {"reason": reason, "by": by}
    return _page(request, "staff_find.html", staff, results=persons, form=form)


@router.get("/persons/{person_id}", response_class=HTMLResponse)
async def person_page(
    request: Request,
    person_id: int,
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    reason: str = "",
) -> HTMLResponse:
    overview = await workbench.person_overview(
        session, runtime.clock, actor(staff), person_id, reason
    )
    return _page(request, "staff_person.html", staff, o=overview, reason=reason, revealed={})


@router.post("/persons/{person_id}/unmask", response_class=HTMLResponse)
async def unmask(
    request: Request,
    person_id: int,
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    field: Text,
    reason: Text,
) -> HTMLResponse:
    value = await audit.unmask(
        session,
        runtime.cipher,
        runtime.clock,
        actor(staff),
        person_id=person_id,
        field=field,
        reason=reason,
    )
    overview = await workbench.person_overview(
        session, runtime.clock, actor(staff), person_id, reason
    )
    return _page(
        request, "staff_person.html", staff, o=overview, reason=reason, revealed={field: value}
    )


@router.post("/persons/{person_id}/unlock", response_class=HTMLResponse)
async def unlock(
    request: Request,
    person_id: int,
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    reason: Text,
) -> HTMLResponse:
    was_locked = await workbench.unlock_online_account(
        session, runtime.clock, actor(staff), person_id, reason
    )
    overview = await workbench.person_overview(
        session, runtime.clock, actor(staff), person_id, reason
    )
    notice = "网上账户已解锁" if was_locked else "网上账户未被锁定，已重置错误次数"
    return _page(
        request, "staff_person.html", staff, o=overview, reason=reason, revealed={}, notice=notice
    )


# --- claims -------------------------------------------------------------------------------------


@router.get("/claims", response_class=HTMLResponse)
async def claims_queue(request: Request, staff: StaffDep, session: SessionDep) -> HTMLResponse:
    queue = await claims.review_queue(session, actor(staff))
    return _page(request, "staff_claims.html", staff, claims=queue)


@router.get("/claims/{claim_id}", response_class=HTMLResponse)
async def claim_page(
    request: Request, claim_id: int, staff: StaffDep, runtime: RuntimeDep, session: SessionDep
) -> HTMLResponse:
    progress = await claims.claim_for_staff(
        session, runtime.clock, actor(staff), claim_id, "claim_review"
    )
    return _page(
        request,
        "staff_claim.html",
        staff,
        claim=progress.claim,
        steps=[step_out(s) for s in progress.steps],
        attachments=progress.attachments,
    )


@router.get("/claims/{claim_id}/documents/{attachment_id}")
async def claim_document(
    claim_id: int, attachment_id: int, staff: StaffDep, runtime: RuntimeDep, session: SessionDep
) -> Response:
    attachment, data = await claims.attachment_for_staff(
        session, document_store(runtime), claim_id, attachment_id
    )
    return document_response(attachment, data)


@router.post("/claims/{claim_id}/review")
async def start_review(
    claim_id: int, staff: StaffDep, runtime: RuntimeDep, session: SessionDep
) -> Response:
    await claims.start_review(session, runtime.clock, actor(staff), claim_id)
    return _see_other(f"/staff/claims/{claim_id}")


@router.post("/claims/{claim_id}/approve")
async def approve(
    claim_id: int,
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    fulamt_ownpay_amt: Text = "0",
    overlmt_selfpay: Text = "0",
    preselfpay_amt: Text = "0",
) -> Response:
    await claims.approve_claim(
        session,
        runtime.clock,
        actor(staff),
        claim_id,
        fulamt_ownpay_amt_fen=parse_amount(fulamt_ownpay_amt, "全自费"),
        overlmt_selfpay_fen=parse_amount(overlmt_selfpay, "超限价自费"),
        preselfpay_amt_fen=parse_amount(preselfpay_amt, "乙类先行自付"),
    )
    return _see_other(f"/staff/claims/{claim_id}")


@router.post("/claims/{claim_id}/reject")
async def reject(
    claim_id: int,
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    code: Text = "",
    text: Text = "",
) -> Response:
    await claims.reject_claim(session, runtime.clock, actor(staff), claim_id, code=code, text=text)
    return _see_other(f"/staff/claims/{claim_id}")


@router.post("/claims/{claim_id}/pay")
async def pay(
    claim_id: int, staff: StaffDep, runtime: RuntimeDep, session: SessionDep, payment_ref: Text = ""
) -> Response:
    await claims.mark_paid(session, runtime.clock, actor(staff), claim_id, payment_ref=payment_ref)
    return _see_other(f"/staff/claims/{claim_id}")


# --- disputes -----------------------------------------------------------------------------------


@router.get("/disputes", response_class=HTMLResponse)
async def disputes_queue(request: Request, staff: StaffDep, session: SessionDep) -> HTMLResponse:
    queue = await disputes.dispute_queue(session, actor(staff))
    return _page(request, "staff_disputes.html", staff, disputes=queue)


@router.get("/disputes/{dispute_id}", response_class=HTMLResponse)
async def dispute_page(
    request: Request, dispute_id: int, staff: StaffDep, runtime: RuntimeDep, session: SessionDep
) -> HTMLResponse:
    dispute = await disputes.dispute_for_staff(session, runtime.clock, actor(staff), dispute_id)
    return _page(
        request,
        "staff_dispute.html",
        staff,
        dispute=dispute,
        details=json.loads(dispute.details_json),
    )


@router.post("/disputes/{dispute_id}/resolve")
async def resolve(
    dispute_id: int,
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    outcome: Text = "",
    note: Text = "",
) -> Response:
    await disputes.resolve_dispute(
        session, runtime.clock, actor(staff), dispute_id, outcome=outcome, note=note
    )
    return _see_other(f"/staff/disputes/{dispute_id}")


# --- maker-checker adjustments ------------------------------------------------------------------


@router.get("/adjustments", response_class=HTMLResponse)
async def adjustments_page(request: Request, staff: StaffDep, session: SessionDep) -> HTMLResponse:
    pending = await workbench.pending_adjustments(session, actor(staff))
    return _page(request, "staff_adjustments.html", staff, proposals=pending, yuan=format_yuan)


@router.post("/adjustments")
async def propose(
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    person_id: Annotated[int, Form()],
    kind: Text = "",
    amount: Text = "",
    entry_id: Text = "",
    reason: Text = "",
) -> Response:
    if entry_id and not entry_id.isdigit():
        raise InvalidProposal("记账记录编号应为数字")
    await adjustments.propose_adjustment(
        session,
        runtime.clock,
        actor(staff),
        person_id=person_id,
        kind=kind,
        reason=reason,
        amount_fen=parse_amount(amount, "调整金额") if amount else None,
        entry_id=int(entry_id) if entry_id else None,
    )
    return _see_other("/staff/adjustments")


@router.post("/adjustments/{proposal_id}/approve")
async def approve_adjustment(
    proposal_id: int, staff: StaffDep, runtime: RuntimeDep, session: SessionDep, note: Text = ""
) -> Response:
    await adjustments.approve_proposal(session, runtime.clock, actor(staff), proposal_id, note=note)
    return _see_other("/staff/adjustments")


@router.post("/adjustments/{proposal_id}/reject")
async def reject_adjustment(
    proposal_id: int, staff: StaffDep, runtime: RuntimeDep, session: SessionDep, note: Text = ""
) -> Response:
    await adjustments.reject_proposal(session, runtime.clock, actor(staff), proposal_id, note=note)
    return _see_other("/staff/adjustments")


# --- the audit trail ----------------------------------------------------------------------------


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(
    request: Request,
    staff: StaffDep,
    session: SessionDep,
    person_id: int | None = None,
    actor_id: str | None = None,
    before: int | None = None,
    verify: bool = False,
) -> HTMLResponse:
    records = await audit.browse_for_admin(
        session,
        actor(staff),
        subject_person_id=person_id,
        actor_id=actor_id or None,
        before_seq=before,
    )
    # Walking the whole chain is work: only when asked.
    verification = await audit.verify_chain(session) if verify else None
    return _page(request, "staff_audit.html", staff, records=records, verification=verification)
