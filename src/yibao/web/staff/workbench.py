"""The counter's workbench (/staff): review queues for claims and disputes, maker-checker
adjustments, and the audit trail for administrators; the person desk is `persons`. Identity's
middleware guarantees the second factor."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from yibao.audit import service as audit
from yibao.claims.domain import InvalidProposal
from yibao.claims.service import adjustments, claim_reads, claims, disputes, workbench
from yibao.kernel.money import format_yuan
from yibao.web.api.claims import document_response, document_store, parse_amount, step_out
from yibao.web.auth import StaffDep
from yibao.web.deps import RuntimeDep, SessionDep
from yibao.web.ids import MAX_ROW_ID, RowId, RowIdForm, RowIdQuery
from yibao.web.sessions import verify_csrf
from yibao.web.staff import auditrules as auditrule_pages
from yibao.web.staff import crediting as crediting_pages
from yibao.web.staff import kiosks, partners, persons, reconciliations
from yibao.web.staff.page import Text, actor, page, see_other

queues = APIRouter(prefix="/staff", include_in_schema=False, dependencies=[Depends(verify_csrf)])

# --- claims -------------------------------------------------------------------------------------


@queues.get("/claims", response_class=HTMLResponse)
async def claims_queue(request: Request, staff: StaffDep, session: SessionDep) -> HTMLResponse:
    queue = await claim_reads.review_queue(session, actor(staff))
    return page(request, "staff_claims.html", staff, claims=queue)


@queues.get("/claims/{claim_id}", response_class=HTMLResponse)
async def claim_page(
    request: Request, claim_id: RowId, staff: StaffDep, runtime: RuntimeDep, session: SessionDep
) -> HTMLResponse:
    progress = await claim_reads.claim_for_staff(
        session, runtime.clock, actor(staff), claim_id, "claim_review"
    )
    return page(
        request,
        "staff_claim.html",
        staff,
        claim=progress.claim,
        steps=[step_out(s) for s in progress.steps],
        attachments=progress.attachments,
    )


@queues.get("/claims/{claim_id}/documents/{attachment_id}")
async def claim_document(
    claim_id: RowId, attachment_id: RowId, staff: StaffDep, runtime: RuntimeDep, session: SessionDep
) -> Response:
    attachment, data = await claim_reads.attachment_for_staff(
        session, runtime.clock, document_store(runtime), actor(staff), claim_id, attachment_id
    )
    return document_response(attachment, data)


@queues.post("/claims/{claim_id}/review")
async def start_review(
    claim_id: RowId, staff: StaffDep, runtime: RuntimeDep, session: SessionDep
) -> Response:
    await claims.start_review(session, runtime.clock, actor(staff), claim_id)
    return see_other(f"/staff/claims/{claim_id}")


@queues.post("/claims/{claim_id}/approve")
async def approve(
    claim_id: RowId,
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
    return see_other(f"/staff/claims/{claim_id}")


@queues.post("/claims/{claim_id}/reject")
async def reject(
    claim_id: RowId,
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    code: Text = "",
    text: Text = "",
) -> Response:
    await claims.reject_claim(session, runtime.clock, actor(staff), claim_id, code=code, text=text)
    return see_other(f"/staff/claims/{claim_id}")


@queues.post("/claims/{claim_id}/pay")
async def pay(
    claim_id: RowId,
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    payment_ref: Text = "",
) -> Response:
    await claims.mark_paid(session, runtime.clock, actor(staff), claim_id, payment_ref=payment_ref)
    return see_other(f"/staff/claims/{claim_id}")


# --- disputes -----------------------------------------------------------------------------------


@queues.get("/disputes", response_class=HTMLResponse)
async def disputes_queue(request: Request, staff: StaffDep, session: SessionDep) -> HTMLResponse:
    queue = await disputes.dispute_queue(session, actor(staff))
    return page(request, "staff_disputes.html", staff, disputes=queue)


@queues.get("/disputes/{dispute_id}", response_class=HTMLResponse)
async def dispute_page(
    request: Request, dispute_id: RowId, staff: StaffDep, runtime: RuntimeDep, session: SessionDep
) -> HTMLResponse:
    dispute = await disputes.dispute_for_staff(session, runtime.clock, actor(staff), dispute_id)
    return page(
        request,
        "staff_dispute.html",
        staff,
        dispute=dispute,
        details=json.loads(dispute.details_json),
    )


@queues.post("/disputes/{dispute_id}/resolve")
async def resolve(
    dispute_id: RowId,
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    outcome: Text = "",
    note: Text = "",
) -> Response:
    await disputes.resolve_dispute(
        session, runtime.clock, actor(staff), dispute_id, outcome=outcome, note=note
    )
    return see_other(f"/staff/disputes/{dispute_id}")


# --- maker-checker adjustments ------------------------------------------------------------------


@queues.get("/adjustments", response_class=HTMLResponse)
async def adjustments_page(request: Request, staff: StaffDep, session: SessionDep) -> HTMLResponse:
    pending = await workbench.pending_adjustments(session, actor(staff))
    return page(request, "staff_adjustments.html", staff, proposals=pending, yuan=format_yuan)


@queues.post("/adjustments")
async def propose(
    staff: StaffDep,
    runtime: RuntimeDep,
    session: SessionDep,
    person_id: RowIdForm,
    kind: Text = "",
    amount: Text = "",
    entry_id: Text = "",
    reason: Text = "",
) -> Response:
    # ASCII digits only ("²" is a digit to str.isdigit, not to int), and a BIGINT at most.
    if entry_id and not (
        entry_id.isascii() and entry_id.isdigit() and 1 <= int(entry_id) <= MAX_ROW_ID
    ):
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
    return see_other("/staff/adjustments")


@queues.post("/adjustments/{proposal_id}/approve")
async def approve_adjustment(
    proposal_id: RowId, staff: StaffDep, runtime: RuntimeDep, session: SessionDep, note: Text = ""
) -> Response:
    await adjustments.approve_proposal(session, runtime.clock, actor(staff), proposal_id, note=note)
    return see_other("/staff/adjustments")


@queues.post("/adjustments/{proposal_id}/reject")
async def reject_adjustment(
    proposal_id: RowId, staff: StaffDep, runtime: RuntimeDep, session: SessionDep, note: Text = ""
) -> Response:
    await adjustments.reject_proposal(session, runtime.clock, actor(staff), proposal_id, note=note)
    return see_other("/staff/adjustments")


# --- the audit trail ----------------------------------------------------------------------------


@queues.get("/audit", response_class=HTMLResponse)
async def audit_page(
    request: Request,
    staff: StaffDep,
    session: SessionDep,
    person_id: RowIdQuery = None,
    actor_id: str | None = None,
    before: RowIdQuery = None,
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
    return page(request, "staff_audit.html", staff, records=records, verification=verification)


# What the app mounts: the queues and the person desk, each with its own /staff prefix.
router = APIRouter()
router.include_router(queues)
router.include_router(persons.router)
router.include_router(crediting_pages.router)
router.include_router(kiosks.router)
router.include_router(partners.router)
router.include_router(reconciliations.router)
router.include_router(auditrule_pages.router)
