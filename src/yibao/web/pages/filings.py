"""The person's 异地就医备案 pages: the list with each 备案's state, the application form (with a
proof upload or a declaration), a 备案's page, 撤销 and 变更."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from yibao.filings import service as filings
from yibao.filings.domain import (
    LONG_TERM_KINDS,
    DocumentKind,
    Filing,
    FilingKind,
    InvalidFiling,
    parse_kind,
)
from yibao.kernel.clock import china_today
from yibao.kernel.errors import DomainError
from yibao.runtime import Runtime
from yibao.web.auth import PersonDep, SteppedUpPersonDep
from yibao.web.deps import RuntimeDep, SessionDep
from yibao.web.errors import status_for
from yibao.web.i18n import N_
from yibao.web.ids import RowId
from yibao.web.pages.page import render, see_other
from yibao.web.sessions import verify_csrf

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])

Text = Annotated[str, Form(max_length=200)]
OptionalFile = Annotated[UploadFile | None, File()]

# The domain's names, marked for the English catalogue (a test keeps the two the same).
KIND_LABELS = {
    "retiree_resettled": N_("异地安置退休"),
    "long_term_resident": N_("异地长期居住"),
    "working_away": N_("常驻异地工作"),
    "referral": N_("异地转诊"),
    "emergency": N_("异地急诊抢救"),
    "other_temporary": N_("其他临时外出"),
}
STATE_LABELS = {
    "active": N_("已生效"),
    "not_yet": N_("已生效（未到开始日期）"),
    "expired": N_("已到期"),
    "cancelled": N_("已撤销"),
    "changed": N_("已变更"),
}
CHANNEL_LABELS = {"app": N_("网上办理"), "counter": N_("窗口办理"), "institution": N_("医院申报")}
NAMES: dict[str, Any] = {
    "kind_names": KIND_LABELS,
    "long_term_kinds": [k.value for k in FilingKind if k in LONG_TERM_KINDS],
    "temporary_kinds": [k.value for k in FilingKind if k not in LONG_TERM_KINDS],
    "state_names": STATE_LABELS,
    "channel_names": CHANNEL_LABELS,
}
STATE_BADGES = {"active": "ok", "not_yet": "ok", "expired": "", "cancelled": "bad", "changed": ""}


def _page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return render(request, template, status, **NAMES, badges=STATE_BADGES, **context)


def filing_form(
    kind: Text = "",
    treatment_name: Text = "",
    treatment_admdvs: Text = "",
    begins: Text = "",
    referral_medins_code: Text = "",
    declaration: Text = "",
) -> dict[str, str]:
    return {
        "kind": kind,
        "treatment_name": treatment_name,
        "treatment_admdvs": treatment_admdvs,
        "begins": begins,
        "referral_medins_code": referral_medins_code,
        "declaration": declaration,
    }


FilingForm = Annotated[dict[str, str], Depends(filing_form)]


async def application_from(
    form: dict[str, str], proof: UploadFile | None, max_bytes: int
) -> filings.Application:
    """The form as an application: the kind decides which document fields count."""
    kind = parse_kind(form["kind"], "备案类型")
    try:
        begins = date.fromisoformat(form["begins"].strip())
    except ValueError as exc:
        raise InvalidFiling("开始日期应为有效日期") from exc
    upload: filings.Upload | None = None
    document_kind: DocumentKind | None = None
    note = ""
    referral: str | None = None
    if kind is FilingKind.REFERRAL:
        document_kind, referral = DocumentKind.REFERRAL, form["referral_medins_code"]
    elif kind in LONG_TERM_KINDS:
        if proof is not None and (proof.filename or proof.size):
            upload = filings.Upload(proof.filename or "", await proof.read(max_bytes + 1))
        elif form["declaration"].strip():
            document_kind, note = DocumentKind.DECLARATION, form["declaration"]
    return filings.Application(
        kind=kind,
        treatment_admdvs=form["treatment_admdvs"],
        treatment_name=form["treatment_name"],
        begins=begins,
        document_kind=document_kind,
        document_note=note,
        referral_medins_code=referral,
        upload=upload,
    )


def _form_page(
    request: Request,
    runtime: Runtime,
    form: dict[str, str],
    action: str,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    form = {**form, "begins": form.get("begins") or china_today(runtime.clock).isoformat()}
    return _page(request, "filings/form.html", status, form=form, action=action, **context)


@router.get("/filings", response_class=HTMLResponse)
async def filings_page(
    request: Request, person: PersonDep, runtime: RuntimeDep, session: SessionDep
) -> HTMLResponse:
    today = china_today(runtime.clock)
    rows = await filings.filings_of(session, person.person_id)
    return _page(
        request,
        "filings/list.html",
        filings=[(f, f.shown_state(today).value) for f in rows],
    )


@router.get("/filings/new", response_class=HTMLResponse)
async def new_filing_page(
    request: Request, person: SteppedUpPersonDep, runtime: RuntimeDep
) -> HTMLResponse:
    return _form_page(request, runtime, {}, "/filings")


async def _send(
    request: Request,
    runtime: Runtime,
    form: dict[str, str],
    proof: UploadFile | None,
    action: str,
    use_case: Any,
    **context: Any,
) -> Response:
    try:
        application = await application_from(form, proof, filings.MAX_DOCUMENT_BYTES)
        made: Filing = await use_case(application)
    except DomainError as exc:
        return _form_page(
            request, runtime, form, action, status_for(exc), error=exc.message, **context
        )
    return see_other(f"/filings/{made.id}")


@router.post("/filings", response_class=HTMLResponse)
async def submit_filing(
    request: Request,
    person: SteppedUpPersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
    form: FilingForm,
    proof: OptionalFile = None,
) -> Response:
    actor = filings.person_actor(person.person_id, "本人")
    store = filings.document_store(runtime.settings.var_dir)

    async def use_case(application: filings.Application) -> Filing:
        return await filings.file(
            session, runtime.clock, actor, person.person_id, application, store=store
        )

    return await _send(request, runtime, form, proof, "/filings", use_case)


@router.get("/filings/{filing_id}", response_class=HTMLResponse)
async def filing_page(
    request: Request,
    filing_id: RowId,
    person: PersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> HTMLResponse:
    filing = await filings.filing_of(session, person.person_id, filing_id)
    documents = await filings.documents_of(session, person.person_id, filing_id)
    return _page(
        request,
        "filings/detail.html",
        f=filing,
        state=filing.shown_state(china_today(runtime.clock)).value,
        documents=documents,
    )


@router.post("/filings/{filing_id}/cancel", response_class=HTMLResponse)
async def cancel_filing(
    request: Request,
    filing_id: RowId,
    person: SteppedUpPersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
    reason: Text = "",
) -> Response:
    actor = filings.person_actor(person.person_id, "本人")
    try:
        await filings.cancel(session, runtime.clock, actor, person.person_id, filing_id, reason)
    except DomainError as exc:
        filing = await filings.filing_of(session, person.person_id, filing_id)
        return _page(
            request,
            "filings/detail.html",
            status_for(exc),
            f=filing,
            state=filing.shown_state(china_today(runtime.clock)).value,
            documents=await filings.documents_of(session, person.person_id, filing_id),
            error=exc.message,
        )
    return see_other(f"/filings/{filing_id}")


@router.get("/filings/{filing_id}/change", response_class=HTMLResponse)
async def change_page(
    request: Request,
    filing_id: RowId,
    person: SteppedUpPersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> HTMLResponse:
    old = await filings.filing_of(session, person.person_id, filing_id)
    form = {
        "kind": old.kind.value,
        "treatment_name": old.treatment_name,
        "treatment_admdvs": old.treatment_admdvs,
        "referral_medins_code": old.referral_medins_code or "",
        "declaration": old.document_note,
    }
    return _form_page(request, runtime, form, f"/filings/{filing_id}/change", changing=old)


@router.post("/filings/{filing_id}/change", response_class=HTMLResponse)
async def change_filing(
    request: Request,
    filing_id: RowId,
    person: SteppedUpPersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
    form: FilingForm,
    proof: OptionalFile = None,
) -> Response:
    actor = filings.person_actor(person.person_id, "本人")
    store = filings.document_store(runtime.settings.var_dir)
    old = await filings.filing_of(session, person.person_id, filing_id)

    async def use_case(application: filings.Application) -> Filing:
        return await filings.change(
            session, runtime.clock, actor, person.person_id, filing_id, application, store=store
        )

    action = f"/filings/{filing_id}/change"
    return await _send(request, runtime, form, proof, action, use_case, changing=old)
