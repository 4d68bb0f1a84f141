"""The partner API under /open/v1: the reads of /api/v1 through the same use cases, each behind
the scope the person granted, with masked personal data, cursor pages and RFC 9457 problems.

Every route first calls `partners.service.access.admit` (token, grant, partner, rate limit,
audit record, commit) and only then reads. Its OpenAPI 3.1 document is /open/v1/openapi.json
and lists these routes only.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from yibao import __version__
from yibao.claims.service import claim_reads
from yibao.family import service as family
from yibao.kernel.clock import china_today
from yibao.partners.domain import Admission
from yibao.partners.service import access
from yibao.runtime import Runtime
from yibao.settlement import service as settlement
from yibao.statements import service as statements
from yibao.statements.domain import MAX_PAGE_SIZE, page_size, parse_consumption_filter
from yibao.web.api.family import day_range
from yibao.web.deps import RuntimeDep, SessionDep
from yibao.web.ids import RowId
from yibao.web.open import views

PREFIX = "/open/v1"
DEFAULT_LIMIT = 20

bearer = HTTPBearer(auto_error=False, description="the partner's access token (≤ 10 minutes)")
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"description": "invalid_token: missing, expired or revoked", **PROBLEM},
    403: {"description": "insufficient_scope: the person did not grant this", **PROBLEM},
    429: {"description": "rate_limited: see Retry-After", **PROBLEM},
}

router = APIRouter(prefix=PREFIX, tags=["open"], responses=REFUSALS)


async def admitted(
    credentials: HTTPAuthorizationCredentials | None,
    runtime: Runtime,
    session: AsyncSession,
    scope: str,
    data: str,
) -> Admission:
    """The first line of every route, after FastAPI has checked the parameters: a request it
    refuses as malformed is never admitted, counted or written to the person's 查询记录."""
    token = credentials.credentials if credentials is not None else ""
    return await access.admit(
        session, runtime.ephemeral, runtime.clock, token, scope=scope, data=data
    )


Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
Cursor = Annotated[str | None, Query(max_length=200, description="next_cursor of the last page")]


def _after(
    items: list[Any], key: str, cursor: str | None, limit: int
) -> tuple[list[Any], str | None]:
    """A cursor page over a list already in order: the cursor is the last item's key."""
    start = 0
    if cursor:
        keys = [str(getattr(item, key)) for item in items]
        start = keys.index(cursor) + 1 if cursor in keys else len(items)
    page = items[start : start + limit]
    more = start + limit < len(items)
    return page, str(getattr(page[-1], key)) if more and page else None


@router.get("/balance", response_model=views.BalanceOut, summary="账户余额 (scope balance)")
async def balance(
    session: SessionDep,
    runtime: RuntimeDep,
    credentials: Bearer,
) -> views.BalanceOut:
    who = await admitted(credentials, runtime, session, "balance", "account")
    return views.balance_out(
        await statements.account_overview(session, runtime.clock, who.person_id)
    )


@router.get(
    "/contributions", response_model=views.ContributionsOut, summary="缴费记录 (scope records)"
)
async def contributions(
    session: SessionDep,
    runtime: RuntimeDep,
    since: Annotated[str | None, Query(max_length=7, description="YYYY-MM")] = None,
    until: Annotated[str | None, Query(max_length=7, description="YYYY-MM")] = None,
    credentials: Bearer = None,
) -> views.ContributionsOut:
    who = await admitted(credentials, runtime, session, "records", "contributions")
    history = await statements.contribution_history(
        session, runtime.clock, who.person_id, since=since, until=until
    )
    return views.contributions_out(history)


@router.get(
    "/consumption", response_model=views.ConsumptionPageOut, summary="消费记录 (scope records)"
)
async def consumption(
    session: SessionDep,
    runtime: RuntimeDep,
    since: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD")] = None,
    until: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD")] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    credentials: Bearer = None,
) -> views.ConsumptionPageOut:
    who = await admitted(credentials, runtime, session, "records", "consumption")
    wanted = parse_consumption_filter(
        since=since,
        until=until,
        kind=None,
        institution=None,
        scope=None,
        today=china_today(runtime.clock),
    )
    page = await statements.consumption_page(
        session,
        runtime.clock,
        who.person_id,
        wanted,
        cursor=cursor,
        limit=page_size(limit),
        counted=False,
    )
    return views.ConsumptionPageOut(
        since=wanted.days.since,
        until=wanted.days.until,
        next_cursor=page.next_cursor,
        items=[views.consumption_out(r) for r in page.records],
    )


@router.get(
    "/consumption/{setl_id}",
    response_model=views.ConsumptionDetailOut,
    summary="消费明细 (scope records)",
    responses={404: {"description": "no such settlement for this person", **PROBLEM}},
)
async def consumption_detail(
    setl_id: Annotated[str, Path(max_length=64)],
    session: SessionDep,
    runtime: RuntimeDep,
    credentials: Bearer,
) -> views.ConsumptionDetailOut:
    who = await admitted(credentials, runtime, session, "records", "consumption_detail")
    detail = await statements.consumption_detail(session, who.person_id, setl_id)
    return views.consumption_detail_out(detail)


@router.get("/claims", response_model=views.ClaimsPageOut, summary="报销进度 (scope claims)")
async def claims(
    session: SessionDep,
    runtime: RuntimeDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    credentials: Bearer = None,
) -> views.ClaimsPageOut:
    who = await admitted(credentials, runtime, session, "claims", "claims")
    found = await claim_reads.claims_for_person(session, who.person_id)
    page, next_cursor = _after(found, "id", cursor, limit)
    return views.ClaimsPageOut(next_cursor=next_cursor, items=[views.claim_out(c) for c in page])


@router.get(
    "/claims/{claim_id}",
    response_model=views.ClaimProgressOut,
    summary="一笔报销的进度 (scope claims)",
    responses={404: {"description": "no such claim for this person", **PROBLEM}},
)
async def claim(
    claim_id: RowId,
    session: SessionDep,
    runtime: RuntimeDep,
    credentials: Bearer,
) -> views.ClaimProgressOut:
    who = await admitted(credentials, runtime, session, "claims", "claims")
    progress = await claim_reads.progress_for_person(session, who.person_id, claim_id)
    return views.progress_out(progress)


@router.get("/family", response_model=views.FamilyOut, summary="家庭共济授权 (scope family)")
async def family_authorisations(
    session: SessionDep,
    runtime: RuntimeDep,
    credentials: Bearer,
) -> views.FamilyOut:
    who = await admitted(credentials, runtime, session, "family", "family")
    given = await family.family_page(session, runtime.clock, who.person_id)
    received = await family.supporters(session, runtime.clock, who.person_id)
    return views.FamilyOut(
        beneficiaries=[views.authorisation_out(x) for x in given],
        supporters=[views.authorisation_out(x) for x in received],
    )


@router.get(
    "/family/payments",
    response_model=views.AidPaymentsPageOut,
    summary="共济消费明细 (scope family)",
)
async def family_payments(
    session: SessionDep,
    runtime: RuntimeDep,
    since: date | None = None,
    until: date | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    credentials: Bearer = None,
) -> views.AidPaymentsPageOut:
    who = await admitted(credentials, runtime, session, "family", "family_payments")
    start, end = day_range(since, until)
    rows = await family.aid_paid_by(session, who.person_id, since=start, until=end)
    page, next_cursor = _after(rows, "entry_id", cursor, limit)
    return views.AidPaymentsPageOut(
        next_cursor=next_cursor, items=[views.aid_payment_out(p) for p in page]
    )


@router.get("/voucher", response_model=views.VoucherOut, summary="医保电子凭证 (scope voucher)")
async def voucher(
    session: SessionDep,
    runtime: RuntimeDep,
    credentials: Bearer,
) -> views.VoucherOut:
    who = await admitted(credentials, runtime, session, "voucher", "voucher")
    ttl = timedelta(seconds=runtime.settings.ec_token_ttl_seconds)
    token, expires = await settlement.issue_ec_token(session, who.person_id, runtime.clock, ttl)
    return views.VoucherOut(
        ec_token=token,
        qr_svg=segno.make(token, error="m").svg_data_uri(scale=6, border=2),
        expires_at=expires,
        holder=await settlement.holder_name(session, who.person_id),
    )


def openapi_document() -> dict[str, Any]:
    return get_openapi(
        title="yibao 开放平台 open API",
        version=__version__,
        openapi_version="3.1.0",
        description=(
            "Reads of a person's 医保个人账户 for partner apps, each behind the scope the person "
            "granted (OAuth 2.0 authorisation code with PKCE: /.well-known/"
            "oauth-authorization-server). Errors are RFC 9457 problem details."
        ),
        routes=router.routes,
    )


docs = APIRouter(include_in_schema=False)


@docs.get(f"{PREFIX}/openapi.json")
async def openapi(request: Request) -> JSONResponse:
    cached = getattr(request.app.state, "open_openapi", None)
    if cached is None:
        cached = request.app.state.open_openapi = openapi_document()
    return JSONResponse(cached)
