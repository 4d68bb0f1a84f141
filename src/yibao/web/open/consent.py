"""The consent page (/oauth/authorize): a partner app sends the person here; they sign in with
any of yibao's ways (and verify again when account details are asked for), see who asks for
what and for how long, untick what they do not want, and approve or refuse.

Until the client and its redirect URI are known to match, every problem is shown here and
nothing is redirected (no open redirect); after that, refusals go back to the partner with the
standard `error` and its `state`. The form posts back the request itself, checked again, with
the page's CSRF token.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from yibao.identity.domain import StepUpRequired, Unauthenticated
from yibao.partners.domain import (
    ACCESS_TOKEN_TTL,
    DETAIL_SCOPES,
    GRANT_IDLE_LIMIT,
    SCOPES,
    ConsentRequest,
    OAuthError,
)
from yibao.partners.service import authorise
from yibao.web.auth import PersonPrincipal
from yibao.web.deps import RuntimeDep, SessionDep
from yibao.web.headers import PAGE_POLICY
from yibao.web.sessions import verify_csrf

router = APIRouter(include_in_schema=False, dependencies=[Depends(verify_csrf)])

Field = Annotated[str, Form(max_length=2000)]


def redirect_to_partner(redirect_uri: str, **params: str) -> RedirectResponse:
    """The registered URI with our parameters added to its own query (RFC 6749 §3.1.2)."""
    parts = urlsplit(redirect_uri)
    extra = urlencode({k: v for k, v in params.items() if v})
    query = f"{parts.query}&{extra}" if parts.query else extra
    target = urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
    return RedirectResponse(target, status_code=303)


def _refusal(exc: OAuthError) -> Response:
    redirect_uri = exc.details.get("redirect_uri")
    if not isinstance(redirect_uri, str):
        raise exc  # shown on yibao's own error page, never redirected
    return redirect_to_partner(redirect_uri, error=exc.error, state=str(exc.details["state"]))


def _person(request: Request, runtime: RuntimeDep, scopes: list[str]) -> PersonPrincipal:
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, PersonPrincipal):
        raise Unauthenticated("请先登录")
    fresh = principal.step_up_until is not None and principal.step_up_until > runtime.clock.now()
    if set(scopes) & DETAIL_SCOPES and not fresh:
        raise StepUpRequired("授权应用读取账户明细前，请再次验证身份")
    return principal


def _with_form_target(response: Response, redirect_uri: str) -> Response:
    """The page's own policy, letting its form's answer redirect to this partner's origin only
    (browsers apply `form-action` to the redirect after a form post too)."""
    parts = urlsplit(redirect_uri)
    origin = f"{parts.scheme}://{parts.netloc}"
    response.headers["Content-Security-Policy"] = PAGE_POLICY.replace(
        "form-action 'self'", f"form-action 'self' {origin}"
    )
    return response


def _consent_page(request: Request, consent: ConsentRequest, method: str) -> Response:
    response = request.app.state.templates.TemplateResponse(
        request,
        "open/consent.html",
        {
            "consent": consent,
            "scopes": SCOPES,
            "method": method,
            "access_minutes": int(ACCESS_TOKEN_TTL.total_seconds() // 60),
            "idle_days": GRANT_IDLE_LIMIT.days,
        },
    )
    return _with_form_target(response, consent.redirect_uri)


@router.get("/oauth/authorize", response_class=HTMLResponse)
async def consent_page(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    client_id: str = "",
    redirect_uri: str = "",
    response_type: str = "",
    scope: str = "",
    state: str = "",
    code_challenge: str = "",
    code_challenge_method: str = "",
) -> Response:
    params = authorise.AuthorisationParams(
        client_id, redirect_uri, response_type, scope, state, code_challenge, code_challenge_method
    )
    try:
        _, consent = await authorise.check_authorisation(session, params)
    except OAuthError as exc:
        return _refusal(exc)
    await session.rollback()  # the checks' reads end before sign-in may be asked for
    _person(request, runtime, consent.scopes)
    return _consent_page(request, consent, code_challenge_method)


@router.post("/oauth/authorize")
async def consent_answer(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    client_id: Field = "",
    redirect_uri: Field = "",
    response_type: Field = "",
    state: Field = "",
    code_challenge: Field = "",
    code_challenge_method: Field = "",
    requested: Field = "",
    scope: Annotated[list[str], Form(max_length=len(SCOPES))] = [],  # noqa: B006 - read only
    decision: Field = "",
) -> Response:
    params = authorise.AuthorisationParams(
        client_id, redirect_uri, response_type, requested, state, code_challenge,
        code_challenge_method,
    )  # fmt: skip
    try:
        _, consent = await authorise.check_authorisation(session, params)
        await session.rollback()
        person = _person(request, runtime, consent.scopes)
        if decision != "approve":
            return redirect_to_partner(consent.redirect_uri, error="access_denied", state=state)
        approved, code = await authorise.approve_consent(
            session, runtime.clock, person.person_id, params, scope
        )
    except OAuthError as exc:
        return _refusal(exc)
    return redirect_to_partner(approved.redirect_uri, code=code, state=approved.state)
