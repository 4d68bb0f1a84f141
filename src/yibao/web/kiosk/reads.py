"""The person's data at the kiosk, through the same read use cases as the phone pages. Each page
first records the read on the person's 查询记录 ("自助查询机 <place>") and commits it; a session
that has ended shows the sentence saying why, and the browser forgets it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from yibao.claims.domain import STATUS_NAMES
from yibao.claims.service import claim_reads
from yibao.family import service as family
from yibao.kernel.clock import china_today
from yibao.kernel.errors import DomainError
from yibao.kiosks.service import sessions
from yibao.kiosks.service.sessions import Open
from yibao.runtime import Runtime
from yibao.statements import service as statements
from yibao.statements.domain import parse_consumption_filter
from yibao.web.deps import RuntimeDep, SessionDep
from yibao.web.kiosk.access import kiosk_key, refusal, render, session_token
from yibao.web.sessions import verify_csrf

router = APIRouter(prefix="/kiosk", include_in_schema=False, dependencies=[Depends(verify_csrf)])

PAGE_SIZE = 10


class _Ended(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


async def _read(
    request: Request, session: Any, runtime: Runtime, action: str, page: str, **detail: Any
) -> Open:
    try:
        return await sessions.record_read(
            session,
            runtime.clock,
            kiosk_key(request),
            session_token(request),
            action,
            {"page": page, **detail},
        )
    except DomainError as exc:
        await session.rollback()
        raise _Ended(refusal(request, exc, ended=True)) from exc


def _masked_name(name: str) -> str:
    return name[:1] + "*" * (len(name) - 1)


@router.get("/home", response_class=HTMLResponse)
async def home(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    try:
        opened = await _read(request, session, runtime, "person.view", "home")
    except _Ended as ended:
        return ended.response
    view = await statements.account_overview(session, runtime.clock, opened.person_id)
    return render(request, "home.html", name=_masked_name(view.person_name), place=opened.place)


@router.get("/balance", response_class=HTMLResponse)
async def balance(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    try:
        opened = await _read(request, session, runtime, "account.view", "balance")
    except _Ended as ended:
        return ended.response
    view = await statements.account_overview(session, runtime.clock, opened.person_id)
    return render(request, "balance.html", view=view, name=_masked_name(view.person_name))


@router.get("/contributions", response_class=HTMLResponse)
async def contributions(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    try:
        opened = await _read(request, session, runtime, "account.view", "contributions")
    except _Ended as ended:
        return ended.response
    history = await statements.contribution_history(session, runtime.clock, opened.person_id)
    return render(request, "contributions.html", history=history)


@router.get("/consumption", response_class=HTMLResponse)
async def consumption(
    request: Request, session: SessionDep, runtime: RuntimeDep, cursor: str | None = None
) -> Response:
    try:
        opened = await _read(request, session, runtime, "account.view", "consumption")
    except _Ended as ended:
        return ended.response
    wanted = parse_consumption_filter(
        since=None,
        until=None,
        kind=None,
        institution=None,
        scope=None,
        today=china_today(runtime.clock),
    )
    page = await statements.consumption_page(
        session, runtime.clock, opened.person_id, wanted, cursor=cursor, limit=PAGE_SIZE
    )
    return render(request, "consumption.html", page=page, first_page=cursor is None)


@router.get("/consumption/{setl_id}", response_class=HTMLResponse)
async def consumption_detail(
    request: Request, setl_id: str, session: SessionDep, runtime: RuntimeDep
) -> Response:
    try:
        opened = await _read(
            request, session, runtime, "account.view", "consumption_detail", setl_id=setl_id[:40]
        )
    except _Ended as ended:
        return ended.response
    detail = await statements.consumption_detail(session, opened.person_id, setl_id)
    return render(request, "consumption_detail.html", detail=detail)


@router.get("/claims", response_class=HTMLResponse)
async def claims(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    try:
        opened = await _read(request, session, runtime, "claim.view", "claims")
    except _Ended as ended:
        return ended.response
    found = await claim_reads.claims_for_person(session, opened.person_id)
    return render(request, "claims.html", claims=found, status_names=STATUS_NAMES)


@router.get("/family", response_class=HTMLResponse)
async def family_page(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    """家庭共济 for both sides: whom the person supports and who supports them, and 共济消费明细
    paid from their account for relatives and paid for them from a relative's."""
    try:
        opened = await _read(request, session, runtime, "family.view", "family")
    except _Ended as ended:
        return ended.response
    given = await family.family_page(session, runtime.clock, opened.person_id)
    received = await family.supporters(session, runtime.clock, opened.person_id)
    paid = await family.aid_paid_by(session, opened.person_id)
    got = await family.aid_received(session, opened.person_id)
    return render(
        request,
        "family.html",
        given=given,
        received=received,
        paid=paid,
        got=got,
        paid_total=sum(p.amount_fen for p in paid),
        got_total=sum(p.amount_fen for p in got),
    )
