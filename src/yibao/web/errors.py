"""The one table that turns business errors into HTTP answers (rule 5).

JSON for /api/… (`{"error": {"code", "message"}}`), a page a person understands for everything else.
Nothing below the edge raises HTTPException; unknown codes fall back by their base class.
"""

from __future__ import annotations

from urllib.parse import quote

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from yibao.kernel.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from yibao.web.open.problems import bearer_challenge, is_open_path, problem

log = structlog.get_logger("yibao.web")

# Stable error code → HTTP status. Codes not listed fall back by base class below.
STATUS_BY_CODE: dict[str, int] = {
    "insufficient_balance": 409,
    "account_frozen": 409,
    "already_reversed": 409,
    "unauthenticated": 401,
    "step_up_required": 403,
    "rate_limited": 429,
    "sign_in_failed": 401,
    "invalid_token": 401,
}

# Pages answer these by sending the person to sign in or verify, then back to where they were.
SIGN_IN_REDIRECTS = {"unauthenticated": "/login", "step_up_required": "/verify"}

STATUS_BY_BASE: list[tuple[type[DomainError], int]] = [
    (NotFound, 404),
    (PermissionDenied, 403),
    (Conflict, 409),
    (InvalidInput, 422),
]


def status_for(error: DomainError) -> int:
    if error.code in STATUS_BY_CODE:
        return STATUS_BY_CODE[error.code]
    for base, status in STATUS_BY_BASE:
        if isinstance(error, base):
            return status
    return 400


def retry_headers(error: DomainError) -> dict[str, str] | None:
    """`Retry-After` (seconds) when the refusal knows when the caller may come back."""
    retry_after = error.details.get("retry_after")
    return {"Retry-After": str(retry_after)} if isinstance(retry_after, int) else None


def wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def error_page(
    request: Request,
    status: int,
    title: str,
    message: str,
    headers: dict[str, str] | None = None,
) -> Response:
    templates = getattr(request.app.state, "templates", None)
    if templates is None:
        return HTMLResponse(
            f"<h1>{title}</h1><p>{message}</p>", status_code=status, headers=headers
        )
    # A failed load (the server's fault, not the request's) offers a retry, never a blank page.
    # The kiosk's shared screen keeps its own layout (no phone navigation, no history back).
    kiosk = request.url.path == "/kiosk" or request.url.path.startswith("/kiosk/")
    response: Response = templates.TemplateResponse(
        request,
        "kiosk/message.html" if kiosk else "error.html",
        {"title": title, "message": message, "retry": status >= 500},
        status_code=status,
        headers=headers,
    )
    return response


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        status = status_for(exc)
        if is_open_path(request):
            headers = {**(retry_headers(exc) or {}), **bearer_challenge(exc)}
            return problem(status, exc.message, code=exc.code, headers=headers or None)
        if not wants_json(request) and exc.code in SIGN_IN_REDIRECTS:
            # A page that needs sign-in (or a fresh verification) sends the person there and back.
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            prefix = "/staff" if request.url.path.startswith("/staff") else ""
            return RedirectResponse(
                f"{prefix}{SIGN_IN_REDIRECTS[exc.code]}?next={quote(target)}", status_code=303
            )
        if wants_json(request):
            return JSONResponse(
                {"error": {"code": exc.code, "message": exc.message}},
                status_code=status,
                headers=retry_headers(exc),
            )
        return error_page(request, status, "无法完成操作", exc.message, retry_headers(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {"field": ".".join(str(p) for p in err.get("loc", ())[1:]), "message": err.get("msg")}
            for err in exc.errors()
        ]
        if is_open_path(request):
            return problem(422, "请求参数有误", code="invalid_input", extra={"fields": problems})
        if wants_json(request):
            return JSONResponse(
                {"error": {"code": "invalid_input", "message": "请求参数有误", "fields": problems}},
                status_code=422,
            )
        text = "；".join(f"{p['field']}: {p['message']}" for p in problems)
        return error_page(request, 422, "填写有误", text)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if is_open_path(request):
            return problem(
                exc.status_code,
                str(exc.detail),
                code=f"http_{exc.status_code}",
                headers=getattr(exc, "headers", None),
            )
        if wants_json(request):
            return JSONResponse(
                {"error": {"code": f"http_{exc.status_code}", "message": str(exc.detail)}},
                status_code=exc.status_code,
                headers=getattr(exc, "headers", None),
            )
        title = "页面不存在" if exc.status_code == 404 else "请求未完成"
        return error_page(request, exc.status_code, title, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled", path=request.url.path)
        if is_open_path(request):
            return problem(500, "系统繁忙，请稍后重试", code="internal")
        if wants_json(request):
            return JSONResponse(
                {"error": {"code": "internal", "message": "系统繁忙，请稍后重试"}}, status_code=500
            )
        return error_page(request, 500, "系统繁忙", "系统繁忙，请稍后重试。")
