"""Rendering a page with a form that may carry a business error in Chinese next to it."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from yibao.kernel.errors import DomainError
from yibao.web.errors import retry_headers, status_for


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, template, context, status_code=status
    )
    return response


def render_error(
    request: Request, template: str, error: DomainError, **context: Any
) -> HTMLResponse:
    response = render(request, template, status_for(error), error=error.message, **context)
    response.headers.update(retry_headers(error) or {})
    return response


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)
