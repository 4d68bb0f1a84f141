"""Sign-in pages: /login (password, SMS code, passkey), /verify (step-up), /logout, /security."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.identity import service as identity
from yibao.identity.domain import CodePurpose
from yibao.kernel.errors import DomainError
from yibao.runtime import Runtime
from yibao.web.auth import PersonDep, PersonPrincipal, SteppedUpPersonDep
from yibao.web.deps import ClientDep, RuntimeDep, SessionDep, client_address
from yibao.web.ids import RowId
from yibao.web.pages.credentials import send_code_to_own_phone, signed_in, signed_out
from yibao.web.pages.page import render, render_error, see_other
from yibao.web.sessions import (
    device_token,
    relying_party,
    safe_next,
    set_session_cookie,
    verify_csrf,
)

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)

Text = Annotated[str, Form()]


def _ua(request: Request) -> str:
    return request.headers.get("user-agent", "")


async def _passkey_options(
    request: Request,
    runtime: Runtime,
    session: AsyncSession,
    purpose: str,
    account_id: int | None = None,
) -> JSONResponse:
    """The browser's WebAuthn options and the flow id its answer must come back with."""
    options, flow = await identity.passkey_options(
        runtime, session, relying_party(request), purpose=purpose, account_id=account_id
    )
    return JSONResponse({"options": json.loads(options), "flow": flow})


def _ceremony(payload: dict[str, Any]) -> dict[str, str]:
    """The flow id and the credential of a passkey ceremony, as the browser posted them."""
    return {
        "flow": str(payload.get("flow", "")),
        "credential": json.dumps(payload.get("credential", {})),
    }


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str = "/", signed_out: int = 0) -> HTMLResponse:
    notice = "您已安全退出" if signed_out else None
    return render(request, "login.html", next=safe_next(next), notice=notice, mode="password")


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    client: ClientDep,
    identifier: Text,
    password: Text,
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        issued = await identity.sign_in_with_password(
            runtime,
            session,
            identifier,
            password,
            via="cookie",
            client=client,
            ua=_ua(request),
            device=device_token(request),
        )
    except DomainError as exc:
        return render_error(
            request, "login.html", exc, next=safe_next(next), identifier=identifier, mode="password"
        )
    return signed_in(request, issued, safe_next(next))


@router.post("/login/code", response_class=HTMLResponse)
async def login_send_code(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    client: ClientDep,
    phone: Text,
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        await identity.send_code(
            runtime, session, phone, CodePurpose.SIGN_IN, client=client, via="cookie"
        )
    except DomainError as exc:
        return render_error(
            request, "login.html", exc, next=safe_next(next), phone=phone, mode="sms"
        )
    return render(
        request,
        "login.html",
        next=safe_next(next),
        phone=phone,
        mode="sms",
        code_sent=True,
        notice="如该手机号已开通网上账户，验证码已发送，5分钟内有效",
    )


@router.post("/login/sms", response_class=HTMLResponse)
async def login_with_code(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    client: ClientDep,
    phone: Text,
    code: Text,
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        issued = await identity.sign_in_with_code(
            runtime, session, phone, code, via="cookie", client=client, ua=_ua(request)
        )
    except DomainError as exc:
        return render_error(
            request,
            "login.html",
            exc,
            next=safe_next(next),
            phone=phone,
            mode="sms",
            code_sent=True,
        )
    return signed_in(request, issued, safe_next(next))


@router.post("/login/passkey/options")
async def login_passkey_options(
    request: Request, runtime: RuntimeDep, session: SessionDep
) -> JSONResponse:
    return await _passkey_options(request, runtime, session, "sign_in")


@router.post("/login/passkey")
async def login_with_passkey(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    payload: Annotated[dict[str, Any], Body()],
) -> JSONResponse:
    issued = await identity.sign_in_with_passkey(
        runtime,
        session,
        relying_party(request),
        **_ceremony(payload),
        via="cookie",
        ua=_ua(request),
    )
    response = JSONResponse({"next": safe_next(str(payload.get("next", "/")))})
    set_session_cookie(request, response, issued.token, device=issued.device)
    return response


# --- step-up -----------------------------------------------------------------------------------


async def _step_up(
    request: Request,
    runtime: Runtime,
    session: AsyncSession,
    person: PersonPrincipal,
    next: str,
    use_case: Callable[..., Awaitable[None]],
    **on_error: Any,
) -> Response:
    """Step up with an SMS code or the card password alike, then back to where the person was;
    a refusal shows /verify again with its reason."""
    target = safe_next(next, "/security")
    try:
        await use_case(
            runtime,
            session,
            session_id=person.session_id,
            account_id=person.account_id,
            via="cookie",
            client=await client_address(request),
        )
    except DomainError as exc:
        return render_error(request, "verify.html", exc, next=target, **on_error)
    return see_other(target)


@router.get("/verify", response_class=HTMLResponse)
async def verify_page(request: Request, person: PersonDep, next: str = "/security") -> HTMLResponse:
    return render(request, "verify.html", next=safe_next(next, "/security"))


@router.post("/verify/code", response_class=HTMLResponse)
async def verify_send_code(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    person: PersonDep,
    client: ClientDep,
    next: Annotated[str, Form()] = "/security",
) -> Response:
    return await send_code_to_own_phone(
        request,
        runtime,
        session,
        person.account_id,
        CodePurpose.STEP_UP,
        "verify.html",
        client,
        next=safe_next(next, "/security"),
    )


@router.post("/verify/sms", response_class=HTMLResponse)
async def verify_with_code(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    person: PersonDep,
    code: Text,
    next: Annotated[str, Form()] = "/security",
) -> Response:
    step_up = partial(identity.step_up_with_code, code=code)
    return await _step_up(request, runtime, session, person, next, step_up, code_sent=True)


@router.post("/verify/card-password", response_class=HTMLResponse)
async def verify_with_card_password(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    person: PersonDep,
    card_password: Text,
    next: Annotated[str, Form()] = "/security",
) -> Response:
    step_up = partial(identity.step_up_with_card_password, card_password=card_password)
    return await _step_up(request, runtime, session, person, next, step_up)


@router.post("/verify/passkey/options")
async def verify_passkey_options(
    request: Request, runtime: RuntimeDep, session: SessionDep, person: PersonDep
) -> JSONResponse:
    return await _passkey_options(request, runtime, session, "step_up", person.account_id)


@router.post("/verify/passkey")
async def verify_with_passkey(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    person: PersonDep,
    payload: Annotated[dict[str, Any], Body()],
) -> JSONResponse:
    await identity.step_up_with_passkey(
        runtime,
        session,
        relying_party(request),
        session_id=person.session_id,
        account_id=person.account_id,
        **_ceremony(payload),
        via="cookie",
    )
    return JSONResponse({"next": safe_next(str(payload.get("next", "")), "/security")})


# --- passkeys, security, sign-out ----------------------------------------------------------------


@router.get("/passkeys", response_class=HTMLResponse)
async def passkeys_page(
    request: Request, runtime: RuntimeDep, session: SessionDep, person: PersonDep
) -> HTMLResponse:
    overview = await identity.account_overview(runtime, session, person.account_id)
    return render(request, "passkeys.html", overview=overview)


@router.post("/passkeys/options")
async def passkey_registration_options(
    request: Request, runtime: RuntimeDep, session: SessionDep, person: PersonDep
) -> JSONResponse:
    return await _passkey_options(request, runtime, session, "register", person.account_id)


@router.post("/passkeys")
async def add_passkey(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    person: PersonDep,
    payload: Annotated[dict[str, Any], Body()],
) -> JSONResponse:
    passkey_id = await identity.add_passkey(
        runtime,
        session,
        relying_party(request),
        account_id=person.account_id,
        **_ceremony(payload),
        name=str(payload.get("name", "")),
        via="cookie",
    )
    return JSONResponse({"id": passkey_id}, status_code=201)


@router.post("/passkeys/{passkey_id}/delete", response_class=HTMLResponse)
async def delete_passkey(
    runtime: RuntimeDep, session: SessionDep, person: SteppedUpPersonDep, passkey_id: RowId
) -> Response:
    await identity.remove_passkey(
        runtime, session, account_id=person.account_id, passkey_id=passkey_id, via="cookie"
    )
    return see_other("/passkeys")


@router.get("/security", response_class=HTMLResponse)
async def security_page(
    request: Request, runtime: RuntimeDep, session: SessionDep, person: SteppedUpPersonDep
) -> HTMLResponse:
    overview = await identity.account_overview(runtime, session, person.account_id)
    return render(request, "security.html", overview=overview, step_up_until=person.step_up_until)


@router.get("/logout", response_class=HTMLResponse)
async def logout_page(request: Request) -> HTMLResponse:
    return render(request, "logout.html")


@router.post("/logout")
async def logout(request: Request, runtime: RuntimeDep, session: SessionDep) -> Response:
    principal = request.state.principal
    if principal is not None and hasattr(principal, "account_id"):
        await identity.sign_out(runtime, session, principal.session_id, via="cookie")
    return signed_out()


@router.post("/logout/everywhere")
async def logout_everywhere(
    runtime: RuntimeDep, session: SessionDep, person: SteppedUpPersonDep
) -> Response:
    await identity.sign_out_everywhere(runtime, session, person.account_id, via="cookie")
    return signed_out()
