"""家庭共济 at /staff/family: the review queue with documents beside the form, counter entry by a
clerk, relation correction, and freezing for misuse with a second approver for the unfreeze."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from yibao.family import service as family
from yibao.family.domain import ACTION_NAMES, RELATION_NAMES, Relation
from yibao.kernel.errors import DomainError
from yibao.web.api.family import read_upload
from yibao.web.auth import StaffPrincipal, require_role
from yibao.web.deps import RuntimeDep, SessionDep
from yibao.web.i18n import N_, gettext_for
from yibao.web.ids import RowId, RowIdForm
from yibao.web.pages.page import render, render_error, see_other
from yibao.web.sessions import verify_csrf

router = APIRouter(
    prefix="/staff/family", dependencies=[Depends(verify_csrf)], include_in_schema=False
)

Text = Annotated[str, Form()]
Reviewer = Annotated[StaffPrincipal, Depends(require_role("reviewer", "admin"))]
Clerk = Annotated[StaffPrincipal, Depends(require_role("clerk", "admin"))]
AnyStaff = Annotated[StaffPrincipal, Depends(require_role("clerk", "reviewer", "admin"))]
QUEUE_NOTICES = {
    "approved": N_("已审核通过"),
    "rejected": N_("已退回申请"),
    "submitted": N_("已提交审核"),
}
FREEZE_NOTICES = {
    "frozen": N_("已冻结，并已通知本人及其共济亲属（含冻结原因和申诉途径）"),
    "requested": N_("已提出解冻申请，须由另一位工作人员复核批准"),
    "unfrozen": N_("已解冻，并已通知本人"),
}
RELATIONS = [(r.value, RELATION_NAMES[r]) for r in Relation if r != Relation.OTHER]


def actor(staff: StaffPrincipal) -> family.Staff:
    return family.Staff(staff.staff_id, staff.name, staff.roles, staff.office)


@router.get("", response_class=HTMLResponse)
async def queue(
    request: Request, staff: AnyStaff, runtime: RuntimeDep, session: SessionDep, notice: str = ""
) -> HTMLResponse:
    cases = await family.review_queue(session, runtime.clock)
    return render(
        request,
        "staff_family/queue.html",
        cases=cases,
        staff=staff,
        notice=gettext_for(request, QUEUE_NOTICES[notice]) if notice in QUEUE_NOTICES else None,
    )


async def _case_page(
    request: Request,
    staff: family.Staff,
    runtime: RuntimeDep,
    session: SessionDep,
    authorisation_id: int,
    error: str | None = None,
    status: int = 200,
    notice: str | None = None,
) -> HTMLResponse:
    case = await family.open_case(session, runtime.clock, staff, authorisation_id)
    return render(
        request,
        "staff_family/case.html",
        status=status,
        case=case,
        relations=RELATIONS,
        action_names=ACTION_NAMES,
        error=error,
        notice=notice,
    )


@router.get("/cases/{authorisation_id}", response_class=HTMLResponse)
async def case(
    request: Request,
    authorisation_id: RowId,
    staff: AnyStaff,
    runtime: RuntimeDep,
    session: SessionDep,
) -> HTMLResponse:
    return await _case_page(request, actor(staff), runtime, session, authorisation_id)


@router.post("/cases/{authorisation_id}/review", response_class=HTMLResponse)
async def review(
    request: Request,
    authorisation_id: RowId,
    staff: Reviewer,
    runtime: RuntimeDep,
    session: SessionDep,
    decision: Text,
    reason: Annotated[str, Form()] = "",
) -> Response:
    try:
        await family.review(
            session,
            runtime.cipher,
            runtime.clock,
            authorisation_id,
            actor(staff),
            approve=decision == "approve",
            reason=reason or None,
        )
    except DomainError as exc:
        await session.rollback()
        return await _case_page(
            request, actor(staff), runtime, session, authorisation_id, exc.message, 422
        )
    return see_other(
        "/staff/family?notice=" + ("approved" if decision == "approve" else "rejected")
    )


@router.post("/cases/{authorisation_id}/relation", response_class=HTMLResponse)
async def correct_relation(
    request: Request,
    authorisation_id: RowId,
    staff: AnyStaff,
    runtime: RuntimeDep,
    session: SessionDep,
    relation: Text,
    reason: Annotated[str, Form()] = "",
) -> HTMLResponse:
    try:
        result = await family.correct_relation(
            session, runtime.clock, actor(staff), authorisation_id, relation, reason
        )
    except DomainError as exc:
        await session.rollback()
        return await _case_page(
            request, actor(staff), runtime, session, authorisation_id, exc.message, 422
        )
    notice = (
        gettext_for(request, N_("已更正亲属关系，仍符合共济条件"))
        if not result.refusals
        else gettext_for(request, N_("已更正亲属关系；不再符合条件，共济已终止："))
        + "；".join(r.message for r in result.refusals)
    )
    return await _case_page(
        request, actor(staff), runtime, session, authorisation_id, notice=notice
    )


@router.get("/documents/{document_id}")
async def document(
    document_id: RowId, staff: Reviewer, runtime: RuntimeDep, session: SessionDep
) -> Response:
    """Documents are shown to the applicant and to reviewers only."""
    doc, data = await family.open_document(
        session,
        runtime.clock,
        family.document_store(runtime.settings.var_dir),
        actor(staff),
        document_id,
    )
    return Response(data, media_type=doc.content_type, headers={"Cache-Control": "no-store"})


@router.get("/counter", response_class=HTMLResponse)
async def counter_page(request: Request, staff: Clerk) -> HTMLResponse:
    return render(request, "staff_family/counter.html", relations=RELATIONS, form={})


@router.post("/counter", response_class=HTMLResponse)
async def counter(
    request: Request,
    staff: Clerk,
    runtime: RuntimeDep,
    session: SessionDep,
    authoriser: Text,
    name: Text,
    id_number: Text,
    relation: Text,
) -> Response:
    """线下办理: the clerk enters the application for a person who came with the documents."""
    form = {"authoriser": authoriser, "name": name, "id_number": id_number, "relation": relation}
    try:
        person = await family.find_insured(session, runtime.cipher, authoriser)
        started = await family.start_application(
            session,
            runtime.cipher,
            runtime.clock,
            person.id,
            [family.Relative(name, id_number, relation)],
            clerk=actor(staff),
        )
    except DomainError as exc:
        await session.rollback()
        return render_error(
            request,
            "staff_family/counter.html",
            exc,
            relations=RELATIONS,
            form=form,
            refusals=getattr(exc, "refusals", []),
        )
    return see_other(f"/staff/family/applications/{started.application.id}")


async def _application_page(
    request: Request,
    staff: family.Staff,
    runtime: RuntimeDep,
    session: SessionDep,
    application_id: int,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    cases = await family.open_application(session, runtime.clock, staff, application_id)
    return render(
        request,
        "staff_family/application.html",
        status=status,
        application_id=application_id,
        cases=cases,
        error=error,
        draft=any(c.line.status == "applied" for c in cases),
    )


@router.get("/applications/{application_id}", response_class=HTMLResponse)
async def application(
    request: Request, application_id: RowId, staff: Clerk, runtime: RuntimeDep, session: SessionDep
) -> HTMLResponse:
    return await _application_page(request, actor(staff), runtime, session, application_id)


@router.post("/applications/{application_id}/documents", response_class=HTMLResponse)
async def scan(
    request: Request,
    application_id: RowId,
    staff: Clerk,
    runtime: RuntimeDep,
    session: SessionDep,
    authorisation_id: RowIdForm,
    kind: Text,
    file: Annotated[UploadFile, File()],
) -> Response:
    try:
        await family.attach_document(
            session,
            runtime.clock,
            family.document_store(runtime.settings.var_dir),
            authorisation_id,
            kind,
            await read_upload(runtime, file),
            clerk=actor(staff),
            max_bytes=runtime.settings.upload_max_bytes,
        )
    except DomainError as exc:
        await session.rollback()
        return await _application_page(
            request, actor(staff), runtime, session, application_id, exc.message, 422
        )
    return see_other(f"/staff/family/applications/{application_id}")


@router.post("/applications/{application_id}/submit", response_class=HTMLResponse)
async def submit(
    request: Request, application_id: RowId, staff: Clerk, runtime: RuntimeDep, session: SessionDep
) -> Response:
    try:
        await family.submit_application(session, runtime.clock, application_id, clerk=actor(staff))
    except DomainError as exc:
        await session.rollback()
        return await _application_page(
            request, actor(staff), runtime, session, application_id, exc.message, 422
        )
    return see_other("/staff/family?notice=submitted")


@router.get("/freezes", response_class=HTMLResponse)
async def freezes(
    request: Request, staff: AnyStaff, runtime: RuntimeDep, session: SessionDep, notice: str = ""
) -> HTMLResponse:
    return render(
        request,
        "staff_family/freezes.html",
        freezes=await family.open_freezes(session),
        staff=actor(staff),
        notice=gettext_for(request, FREEZE_NOTICES[notice]) if notice in FREEZE_NOTICES else None,
    )


@router.post("/freezes", response_class=HTMLResponse)
async def freeze(
    request: Request,
    staff: AnyStaff,
    runtime: RuntimeDep,
    session: SessionDep,
    person: Text,
    reason: Annotated[str, Form()] = "",
) -> Response:
    try:
        found = await family.find_insured(session, runtime.cipher, person)
        await family.freeze_for_misuse(session, runtime.clock, actor(staff), found.id, reason)
    except DomainError as exc:
        await session.rollback()
        return render_error(
            request,
            "staff_family/freezes.html",
            exc,
            freezes=await family.open_freezes(session),
            staff=actor(staff),
        )
    return see_other("/staff/family/freezes?notice=frozen")


@router.post("/freezes/{freeze_id}/{step}", response_class=HTMLResponse)
async def unfreeze(
    request: Request,
    freeze_id: RowId,
    step: str,
    staff: AnyStaff,
    runtime: RuntimeDep,
    session: SessionDep,
    reason: Annotated[str, Form()] = "",
) -> Response:
    try:
        if step == "request":
            await family.request_unfreeze(session, runtime.clock, actor(staff), freeze_id, reason)
            done = "requested"
        else:
            await family.approve_unfreeze(session, runtime.clock, actor(staff), freeze_id)
            done = "unfrozen"
    except DomainError as exc:
        await session.rollback()
        return render_error(
            request,
            "staff_family/freezes.html",
            exc,
            freezes=await family.open_freezes(session),
            staff=actor(staff),
        )
    return see_other(f"/staff/family/freezes?notice={done}")
