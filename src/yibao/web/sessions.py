"""Who is calling: the middleware that sets `request.state.principal` (see web/auth.py).

- Pages use an HttpOnly, SameSite=Lax cookie (Secure when the request came over HTTPS) holding a
  random token; the session row it points to lives in the database, so idle timeout and "sign out
  everywhere" hold across server processes. Staff pages (/staff…) have their own cookie.
- The JSON API (/api/…) takes only `Authorization: Bearer <token>`, never the cookie, so a page on
  another site cannot ride a signed-in person's cookie into the API.
- Every form post carries a CSRF token that must equal the `yibao_csrf` cookie (double submit);
  scripts send it in the `X-CSRF-Token` header.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

import structlog
from fastapi import Request, Response
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from yibao.db.engine import is_postgres
from yibao.identity import service as identity
from yibao.identity.passkeys import RelyingParty
from yibao.kernel.errors import PermissionDenied
from yibao.runtime import Runtime
from yibao.web.auth import PersonPrincipal, StaffPrincipal
from yibao.web.deps import REQUEST_SESSION

log = structlog.get_logger("yibao.web")

PERSON_COOKIE = "yibao_session"
STAFF_COOKIE = "yibao_staff"
# Device cookies (identity/devices.py): sent only to the sign-in forms that read them, kept across
# sign-outs, so the owner's own browser keeps its own count of wrong passwords.
DEVICE_COOKIE = "yibao_device"
STAFF_DEVICE_COOKIE = "yibao_staff_device"
DEVICE_COOKIE_DAYS = 180
CSRF_COOKIE = "yibao_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_SKIP = ("/static/", "/healthz", "/favicon")
# Institutions sign every message (fsi/router.py); partner apps and the OAuth endpoints they call
# authenticate themselves (web/open/): none of them carries a person's cookie or a CSRF token.
_GATEWAY_AUTHENTICATED = (
    "/fsi/",
    "/peer/",
    "/open/",
    "/oauth/token",
    "/oauth/revoke",
    "/oauth/introspect",
)
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_SAFE = {"GET", "HEAD"}


class CsrfRejected(PermissionDenied):
    code = "csrf_rejected"


def is_staff_path(path: str) -> bool:
    return path == "/staff" or path.startswith(("/staff/", "/api/v1/staff"))


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


class IdentityMiddleware:
    """Plain ASGI (no `BaseHTTPMiddleware`: its extra task and body stream per request cost the
    signed-in hot path a tenth of its CPU). Sets `request.state.principal` before the route runs
    and the CSRF cookie on the way out."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(_GATEWAY_AUTHENTICATED):
            await self.app(scope, receive, send)
            return
        if scope["method"] not in _SAFE:
            await self._handle(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._handle(scope, receive, watched)
        except DBAPIError as exc:
            if started or not exc.connection_invalidated:
                raise
            # The server dropped a pooled connection (a restart: pooled connections are not
            # pinged, db/engine.py) and SQLAlchemy has discarded the pool. A read changes
            # nothing, so it runs once more on a fresh connection instead of failing.
            log.warning("read_retry_after_disconnect", path=scope["path"])
            await self._handle(scope, receive, send)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        path = scope["path"]
        state = request.state
        state.principal = None
        state.display_name = None
        state.sign_out_url = "/staff/logout" if is_staff_path(path) else "/logout"
        # The API takes no cookie and no form (bearer tokens only): it needs no CSRF token.
        api = path.startswith("/api/")
        csrf = "" if api else request.cookies.get(CSRF_COOKIE, "")
        fresh_csrf = not api and len(csrf) < 20
        if fresh_csrf:
            csrf = secrets.token_urlsafe(24)
        state.csrf_token = csrf
        session: AsyncSession | None = None
        try:
            if not path.startswith(_SKIP):
                session = await self._identify(request, path)
            await self._serve(scope, receive, send, request, csrf if fresh_csrf else None)
        finally:
            if session is not None:
                await session.close()

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, request: Request, csrf: str | None
    ) -> None:
        """The route, with a new CSRF cookie (`csrf`, when one was made) set on its response."""
        if csrf is None or scope["path"].startswith(("/api/", *_SKIP)):
            await self.app(scope, receive, send)
            return
        cookie = Response()
        cookie.set_cookie(
            CSRF_COOKIE, csrf, httponly=True, samesite="lax", secure=is_https(request), path="/"
        )
        set_cookie = cookie.headers["set-cookie"]

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # A sign-in has already set a renewed token (`set_session_cookie`): keep that one.
                if not any(v.startswith(f"{CSRF_COOKIE}=") for v in headers.getlist("set-cookie")):
                    headers.append("set-cookie", set_cookie)
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    async def _identify(self, request: Request, path: str) -> AsyncSession | None:
        """Sets the principal; returns the session it opened, which the route then shares."""
        runtime: Runtime = request.app.state.runtime
        if path.startswith("/api/"):
            token, kind, via = bearer_token(request), "person", "bearer"
            if is_staff_path(path):
                kind = "staff"
        elif is_staff_path(path):
            token, kind, via = request.cookies.get(STAFF_COOKIE, ""), "staff", "cookie"
        else:
            token, kind, via = request.cookies.get(PERSON_COOKIE, ""), "person", "cookie"
        if not token:
            return None
        session = runtime.sessions()
        setattr(request.state, REQUEST_SESSION, session)
        if path in CALLER_CHECKED and request.method == "GET":
            # The route checks the session in its own statement (web/caller.py): one round trip.
            request.state.deferred_token = token
            return session
        try:
            await resolve_principal(request, session, token, kind=kind, via=via)
        except BaseException:
            await session.close()
            raise
        return session


# The API reads that check their bearer session in the statement that reads their data
# (identity's `CALLER_CTE`; web/caller.py): the middleware leaves the check to the route.
CALLER_CHECKED = frozenset({"/api/v1/account", "/api/v1/consumption"})


async def resolve_principal(
    request: Request, session: AsyncSession, token: str, *, kind: str, via: str
) -> None:
    """identity's full check of a session token; sets `request.state.principal` (None: not
    signed in) and `display_name`."""
    runtime: Runtime = request.app.state.runtime
    resolved = await identity.resolve_session(runtime, session, token, kind=kind)
    if not is_postgres(session):
        # On SQLite every transaction holds the write lock, which a use case's own
        # session would then wait for: end the check's before the route runs.
        await session.rollback()
    if resolved is None or resolved.via != via:
        return
    request.state.display_name = resolved.display_name
    if resolved.kind == "person":
        request.state.principal = PersonPrincipal(
            person_id=resolved.person_id,
            account_id=resolved.account_id,
            session_id=resolved.session_id,
            step_up_until=resolved.step_up_until,
            via=via,
        )
    else:
        request.state.principal = StaffPrincipal(
            staff_id=resolved.staff_id,
            username=resolved.username,
            name=resolved.display_name,
            roles=resolved.roles,
            office=resolved.office,
            session_id=resolved.session_id,
        )


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


async def verify_csrf(request: Request) -> None:
    """Router dependency for pages: every unsafe request must echo the CSRF cookie."""
    if request.method not in _UNSAFE:
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and "form" in request.headers.get("content-type", ""):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else ""
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        raise CsrfRejected("页面已过期或来源不明，请刷新页面后重试")


def device_token(request: Request, *, staff: bool = False) -> str:
    """The device token this browser was handed at an earlier sign-in, if any."""
    return request.cookies.get(STAFF_DEVICE_COOKIE if staff else DEVICE_COOKIE, "")


def set_session_cookie(
    request: Request, response: Response, token: str, *, staff: bool = False, device: str = ""
) -> None:
    """Every sign-in (person or staff, any method) also renews the CSRF token: one planted in the
    browser before sign-in (a shared computer, a cookie set by a sibling subdomain) would
    otherwise stay valid for the signed-in session (login CSRF / session fixation of the token)."""
    secure = is_https(request)
    response.set_cookie(
        STAFF_COOKIE if staff else PERSON_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
    renewed = secrets.token_urlsafe(24)
    response.set_cookie(
        CSRF_COOKIE, renewed, httponly=True, samesite="lax", secure=secure, path="/"
    )
    request.state.csrf_token = renewed
    if device:
        response.set_cookie(
            STAFF_DEVICE_COOKIE if staff else DEVICE_COOKIE,
            device,
            max_age=DEVICE_COOKIE_DAYS * 24 * 3600,
            httponly=True,
            samesite="lax",
            secure=secure,
            path="/staff/login" if staff else "/login",
        )


def clear_session_cookie(response: Response, *, staff: bool = False) -> None:
    response.delete_cookie(STAFF_COOKIE if staff else PERSON_COOKIE, path="/")


def relying_party(request: Request) -> RelyingParty:
    settings = request.app.state.runtime.settings
    origin = settings.webauthn_origin or f"{request.url.scheme}://{request.url.netloc}"
    rp_id = settings.webauthn_rp_id or (urlsplit(origin).hostname or "localhost")
    return RelyingParty(rp_id=rp_id, name="医保个人账户", origin=origin)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site: never `//evil.example` or an absolute URL."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
