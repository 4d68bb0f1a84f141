"""The person's account pages: 医保查询 (overview), 缴费记录, 消费记录 and its detail (with the
settlement's 电子结算凭证 and its download).

Every route takes the person from the stepped-up principal, never from the URL.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from yibao.crossregion import service as crossregion
from yibao.kernel.clock import china_today
from yibao.settlement_vouchers import service as vouchers
from yibao.statements import service as statements
from yibao.statements.domain import (
    EARLIEST_DAY,
    ConsumptionKind,
    Scope,
    page_size,
    parse_consumption_filter,
)
from yibao.web.auth import SteppedUpPersonDep
from yibao.web.deps import RuntimeDep, SessionDep
from yibao.web.i18n import elder_mode, gettext_for
from yibao.web.pages import labels
from yibao.web.pages.chart import ELDER_WIDTH, WIDTH, spending_chart

router = APIRouter(include_in_schema=False)


def render(request: Request, template: str, context: dict[str, Any]) -> HTMLResponse:
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, template, {"labels": labels.ALL, **context}
    )
    return response


@router.get("/account", response_class=HTMLResponse)
async def overview(
    request: Request, person: SteppedUpPersonDep, session: SessionDep, runtime: RuntimeDep
) -> HTMLResponse:
    view = await statements.account_overview(session, runtime.clock, person.person_id)
    chart = spending_chart(
        view.monthly,
        gettext_for(request, "近12个月每月消费"),
        gettext_for(request, "元"),
        width=ELDER_WIDTH if elder_mode(request) else WIDTH,
    )
    today = china_today(runtime.clock)
    return render(
        request,
        "account/overview.html",
        {"view": view, "chart": chart, "year_start": f"{today.year}-01-01", "today": today},
    )


@router.get("/account/contributions", response_class=HTMLResponse)
async def contributions(
    request: Request,
    person: SteppedUpPersonDep,
    session: SessionDep,
    runtime: RuntimeDep,
    since: str | None = None,
    until: str | None = None,
) -> HTMLResponse:
    history = await statements.contribution_history(
        session, runtime.clock, person.person_id, since=since or None, until=until or None
    )
    return render(request, "account/contributions.html", {"history": history})


@router.get("/account/consumption", response_class=HTMLResponse)
async def consumption(
    request: Request,
    person: SteppedUpPersonDep,
    session: SessionDep,
    runtime: RuntimeDep,
    since: str | None = None,
    until: str | None = None,
    kind: str | None = None,
    institution: str | None = None,
    scope: str | None = None,
    cursor: str | None = None,
    size: int | None = None,
) -> HTMLResponse:
    wanted = parse_consumption_filter(
        since=since,
        until=until,
        kind=kind,
        institution=institution,
        scope=scope,
        today=china_today(runtime.clock),
    )
    page = await statements.consumption_page(
        session, runtime.clock, person.person_id, wanted, cursor=cursor, limit=page_size(size)
    )
    query = {
        "since": wanted.days.since.isoformat(),
        "until": wanted.days.until.isoformat(),
        "kind": wanted.kind.value if wanted.kind else "",
        "institution": wanted.institution or "",
        "scope": wanted.scope.value,
    }
    return render(
        request,
        "account/consumption.html",
        {
            "page": page,
            "query": query,
            "kinds": list(ConsumptionKind),
            "scopes": list(Scope),
            "first_page": cursor is None,
            # 异地全额自付 (a treatment region could not reach us): shown above the entries.
            "paid_elsewhere": (
                await crossregion.paid_elsewhere(session, person.person_id)
                if cursor is None
                else []
            ),
            "narrowed": "、".join(gettext_for(request, name) for name in page.narrowed),
            "widen_since": EARLIEST_DAY.isoformat(),
        },
    )


@router.get("/account/consumption/{setl_id}", response_class=HTMLResponse)
async def consumption_detail(
    request: Request, setl_id: str, person: SteppedUpPersonDep, session: SessionDep
) -> HTMLResponse:
    detail = await statements.consumption_detail(session, person.person_id, setl_id)
    voucher = await vouchers.persons_voucher(session, person.person_id, setl_id)
    return render(
        request, "account/consumption_detail.html", {"detail": detail, "voucher": voucher}
    )


@router.get("/account/consumption/{setl_id}/voucher")
async def consumption_voucher(
    setl_id: str, person: SteppedUpPersonDep, session: SessionDep
) -> Response:
    """The document of the person's own 电子结算凭证, as a download; anyone else's answers 404,
    as a settlement without one does."""
    document = await vouchers.persons_voucher_document(session, person.person_id, setl_id)
    ascii_name = f"voucher-{quote(setl_id, safe='')}.{document.filename.rsplit('.', 1)[-1]}"
    return Response(
        document.content,
        media_type=document.content_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
            "Content-Disposition": (
                f'attachment; filename="{ascii_name}"; '
                f"filename*=UTF-8''{quote(document.filename, safe='')}"
            ),
        },
    )
