"""What the sign-in, registration and security pages answer alike: a session cookie set or
cleared with the redirect, and an SMS code sent to the signed-in person's own phone."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.identity import service as identity
from yibao.identity.domain import CodePurpose
from yibao.kernel.errors import DomainError
from yibao.runtime import Runtime
from yibao.web.pages.page import render, render_error, see_other
from yibao.web.sessions import clear_session_cookie, set_session_cookie


def signed_in(request: Request, issued: identity.IssuedSession, to: str) -> Response:
    response = see_other(to)
    set_session_cookie(request, response, issued.token, device=issued.device)
    return response


def signed_out() -> Response:
    response = see_other("/login?signed_out=1")
    clear_session_cookie(response)
    return response


async def send_code_to_own_phone(
    request: Request,
    runtime: Runtime,
    session: AsyncSession,
    account_id: int,
    purpose: CodePurpose,
    template: str,
    client: str,
    **context: Any,
) -> Response:
    """Send the code and show `template` again, saying to which (masked) number it went."""
    try:
        masked = await identity.send_code_to_account(
            runtime, session, account_id, purpose, client=client, via="cookie"
        )
    except DomainError as exc:
        return render_error(request, template, exc, **context)
    return render(request, template, code_sent=True, notice=f"验证码已发送至 {masked}", **context)
