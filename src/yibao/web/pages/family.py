"""家庭共济 on the phone: eligibility, application with photos, consent, the family page,
what a beneficiary receives, and 共济消费明细 with its CSV export."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from yibao.family import service as family
from yibao.family.domain import ACTION_NAMES, RELATION_NAMES, Relation, UnknownAuthorisation
from yibao.kernel.errors import DomainError
from yibao.web.api.family import day_range, parse_quota, payments_csv, read_upload
from yibao.web.auth import PersonDep, SteppedUpPersonDep
from yibao.web.deps import RuntimeDep, SessionDep
from yibao.web.i18n import N_, gettext_for
from yibao.web.ids import RowId, RowIdForm, RowIdQuery
from yibao.web.pages.page import render, render_error, see_other
from yibao.web.sessions import verify_csrf

router = APIRouter(prefix="/family", dependencies=[Depends(verify_csrf)], include_in_schema=False)

Text = Annotated[str, Form()]
RELATIONS = [(r.value, RELATION_NAMES[r]) for r in Relation]
NOTICES = {
    "submitted": N_("申请已提交，审核结果将通过短信和App消息通知您。"),
    "quota": N_("共济额度已更新。"),
    "paused": N_("已暂停该亲属的共济支付。"),
    "resumed": N_("已恢复该亲属的共济支付。"),
    "revoked": N_("已撤销，此后您的个人账户不再为该亲属支付。"),
    "consented": N_("已确认，申请进入审核。"),
    "declined": N_("已拒绝该共济授权。"),
}


@router.get("", response_class=HTMLResponse)
async def family_page(
    request: Request, person: PersonDep, runtime: RuntimeDep, session: SessionDep, notice: str = ""
) -> HTMLResponse:
    given = await family.family_page(session, runtime.clock, person.person_id)
    received = await family.supporters(session, runtime.clock, person.person_id)
    return render(
        request,
        "family/home.html",
        given=given,
        received=received,
        action_names=ACTION_NAMES,
        notice=gettext_for(request, NOTICES[notice]) if notice in NOTICES else None,
    )


@router.get("/apply", response_class=HTMLResponse)
async def apply_page(request: Request, person: SteppedUpPersonDep) -> HTMLResponse:
    """The step-up comes before the form: checking a relative looks up their record."""
    return render(request, "family/apply.html", relations=RELATIONS, form={})


@router.post("/apply", response_class=HTMLResponse)
async def apply(
    request: Request,
    person: SteppedUpPersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
    name: Text,
    id_number: Text,
    relation: Text,
    step: Annotated[str, Form()] = "check",
) -> Response:
    """资格查询 first; only an eligible relative moves on to the photos."""
    relative = family.Relative(name, id_number, relation)
    form = {"name": name, "id_number": id_number, "relation": relation}
    try:
        if step == "check":
            result = await family.check_online(
                session, runtime.cipher, runtime.clock, runtime.ephemeral, person.person_id,
                [relative],
            )  # fmt: skip
            return render(
                request,
                "family/apply.html",
                status=200 if result.eligible else 422,
                relations=RELATIONS,
                form=form,
                checked=True,
                refusals=result.refusals,
            )
        started = await family.start_application(
            session, runtime.cipher, runtime.clock, person.person_id, [relative],
            store=runtime.ephemeral,
        )  # fmt: skip
    except DomainError as exc:
        refusals = getattr(exc, "refusals", [])
        return render_error(
            request, "family/apply.html", exc, relations=RELATIONS, form=form, refusals=refusals
        )
    return see_other(f"/family/applications/{started.application.id}")


async def _application_page(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    person_id: int,
    application_id: int,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    cases = await family.application_lines(session, runtime.clock, application_id, person_id)
    return render(
        request,
        "family/application.html",
        status=status,
        application_id=application_id,
        cases=cases,
        error=error,
        draft=any(c.line.status == "applied" for c in cases),
    )


@router.get("/applications/{application_id}", response_class=HTMLResponse)
async def application_page(
    request: Request,
    application_id: RowId,
    person: PersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> HTMLResponse:
    return await _application_page(request, runtime, session, person.person_id, application_id)


@router.post("/applications/{application_id}/documents", response_class=HTMLResponse)
async def upload(
    request: Request,
    application_id: RowId,
    person: PersonDep,
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
            person_id=person.person_id,
            max_bytes=runtime.settings.upload_max_bytes,
        )
    except DomainError as exc:
        await session.rollback()
        return await _application_page(
            request, runtime, session, person.person_id, application_id, exc.message, 422
        )
    return see_other(f"/family/applications/{application_id}")


@router.post("/applications/{application_id}/submit", response_class=HTMLResponse)
async def submit(
    request: Request,
    application_id: RowId,
    person: PersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> Response:
    try:
        await family.submit_application(
            session, runtime.clock, application_id, person_id=person.person_id
        )
    except DomainError as exc:
        await session.rollback()
        return await _application_page(
            request, runtime, session, person.person_id, application_id, exc.message, 422
        )
    return see_other("/family?notice=submitted")


@router.get("/documents/{document_id}")
async def document(
    document_id: RowId, person: PersonDep, runtime: RuntimeDep, session: SessionDep
) -> Response:
    doc, data = await family.document_content(
        session,
        family.document_store(runtime.settings.var_dir),
        document_id,
        person_id=person.person_id,
    )
    return Response(data, media_type=doc.content_type, headers={"Cache-Control": "no-store"})


@router.get("/consent/{authorisation_id}", response_class=HTMLResponse)
async def consent_page(
    request: Request,
    authorisation_id: RowId,
    person: PersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> HTMLResponse:
    lines = await family.supporters(session, runtime.clock, person.person_id)
    line = next((x for x in lines if x.authorisation_id == authorisation_id), None)
    if line is None:
        raise UnknownAuthorisation("找不到需要您确认的共济授权")
    return render(request, "family/consent.html", line=line)


@router.post("/consent/{authorisation_id}")
async def consent(
    authorisation_id: RowId,
    person: PersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
    answer: Text,
) -> Response:
    agree = answer == "agree"
    await family.consent(session, runtime.clock, person.person_id, authorisation_id, agree)
    return see_other("/family?notice=" + ("consented" if agree else "declined"))


@router.post("/{authorisation_id}/quota", response_class=HTMLResponse)
async def quota(
    request: Request,
    authorisation_id: RowId,
    person: PersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
    quota: Annotated[str, Form()] = "",
) -> Response:
    try:
        fen = parse_quota(quota)
        await family.change_quota(session, runtime.clock, person.person_id, authorisation_id, fen)
    except DomainError as exc:
        await session.rollback()
        given = await family.family_page(session, runtime.clock, person.person_id)
        received = await family.supporters(session, runtime.clock, person.person_id)
        return render_error(
            request,
            "family/home.html",
            exc,
            given=given,
            received=received,
            action_names=ACTION_NAMES,
        )
    return see_other("/family?notice=quota")


async def _act(
    action: str, authorisation_id: int, person_id: int, runtime: RuntimeDep, session: SessionDep
) -> Response:
    use_cases = {"paused": family.pause, "resumed": family.resume, "revoked": family.revoke}
    await use_cases[action](session, runtime.clock, person_id, authorisation_id)
    return see_other(f"/family?notice={action}")


@router.post("/{authorisation_id}/pause")
async def pause(
    authorisation_id: RowId, person: PersonDep, runtime: RuntimeDep, session: SessionDep
) -> Response:
    return await _act("paused", authorisation_id, person.person_id, runtime, session)


@router.post("/{authorisation_id}/resume")
async def resume(
    authorisation_id: RowId, person: PersonDep, runtime: RuntimeDep, session: SessionDep
) -> Response:
    return await _act("resumed", authorisation_id, person.person_id, runtime, session)


@router.post("/{authorisation_id}/revoke")
async def revoke(
    authorisation_id: RowId, person: PersonDep, runtime: RuntimeDep, session: SessionDep
) -> Response:
    return await _act("revoked", authorisation_id, person.person_id, runtime, session)


@router.get("/payments", response_class=HTMLResponse)
async def payments(
    request: Request,
    person: SteppedUpPersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
    since: date | None = None,
    until: date | None = None,
    relative: RowIdQuery = None,
) -> HTMLResponse:
    """共济消费明细: time, institution, amount and for whom — never the items or diagnosis."""
    start, end = day_range(since, until)
    rows = await family.aid_paid_by(
        session, person.person_id, beneficiary_id=relative, since=start, until=end
    )
    received = await family.aid_received(session, person.person_id, since=start, until=end)
    given = await family.family_page(session, runtime.clock, person.person_id)
    relatives = {x.other_person_id: x.other_name for x in given}
    return render(
        request,
        "family/payments.html",
        rows=rows,
        received=received,
        relatives=relatives,
        since=since,
        until=until,
        relative=relative,
        total=sum(p.amount_fen for p in rows),
        query=request.url.query,
    )


@router.get("/payments.csv")
async def payments_export(
    person: SteppedUpPersonDep,
    session: SessionDep,
    since: date | None = None,
    until: date | None = None,
    relative: RowIdQuery = None,
) -> Response:
    start, end = day_range(since, until)
    rows = await family.aid_paid_by(
        session, person.person_id, beneficiary_id=relative, since=start, until=end
    )
    return Response(
        payments_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="mutual-aid-payments.csv"'},
    )


@router.post("/{authorisation_id}/contribution", response_class=HTMLResponse)
async def contribution(
    request: Request,
    authorisation_id: RowId,
    person: SteppedUpPersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> HTMLResponse:
    receipt = await family.pay_relative_contribution(
        session, runtime.clock, person.person_id, authorisation_id
    )
    return render(request, "family/receipt.html", receipt=receipt)
