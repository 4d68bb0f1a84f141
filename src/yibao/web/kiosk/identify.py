"""The kiosk's welcome, its one-time setup, the state its screen polls, and identification:
the card with its 医保卡密码 on a shuffled keypad, or the 医保电子凭证 QR; then 退出."""

from __future__ import annotations

from contextlib import suppress
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from yibao.identity.service import kiosk as identification
from yibao.kernel.errors import DomainError
from yibao.kiosks.domain import END_MESSAGES, CardState, EndReason
from yibao.kiosks.service import devices, sessions
from yibao.web.deps import ClientDep, RuntimeDep, SessionDep
from yibao.web.i18n import LANG_COOKIE
from yibao.web.kiosk.access import (
    forget_person,
    kiosk_key,
    refusal,
    render,
    see_other,
    session_token,
    set_key_cookie,
    set_session_cookie,
    shuffled_keypad,
)
from yibao.web.sessions import safe_next, verify_csrf

router = APIRouter(prefix="/kiosk", include_in_schema=False, dependencies=[Depends(verify_csrf)])

Field = Annotated[str, Form(max_length=300)]


@router.get("", response_class=HTMLResponse)
async def welcome(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    key = kiosk_key(request)
    if not key:
        return see_other("/kiosk/setup")
    try:
        kiosk = await devices.authenticate(session, key)
    except DomainError as exc:
        return refusal(request, exc, ended=True)
    response = render(
        request,
        "welcome.html",
        place=kiosk.place,
        card_message=kiosk.card_message if kiosk.card_state != CardState.PRESENT else None,
    )
    if session_token(request):
        # Back at the start with a session still open (a person walked away from a page): end it.
        await sessions.end(
            session, runtime.clock, key, session_token(request), EndReason.SIGNED_OUT
        )
        forget_person(response)
    return response


@router.get("/setup", response_class=HTMLResponse)
async def setup_page(request: Request) -> HTMLResponse:
    return render(request, "setup.html", error=None)


@router.post("/setup", response_class=HTMLResponse)
async def setup(request: Request, session: SessionDep, key: Field = "") -> Response:
    """A technician types the key staff were shown at registration, once per kiosk."""
    try:
        await devices.authenticate(session, key.strip())
    except DomainError as exc:
        return render(request, "setup.html", 403, error=exc.message)
    response = see_other("/kiosk")
    set_key_cookie(request, response, key.strip())
    return response


@router.get("/state")
async def state(request: Request, session: SessionDep, runtime: RuntimeDep) -> JSONResponse:
    try:
        now = await sessions.state(
            session, runtime.clock, kiosk_key(request), session_token(request)
        )
    except DomainError as exc:
        return JSONResponse({"refused": exc.message}, status_code=403)
    ended = END_MESSAGES[EndReason(now.ended)] if now.ended else None
    return JSONResponse(
        {
            "card": now.card,
            "message": now.message,
            "session": now.session,
            "ended": ended,
            "ended_reason": now.ended,
        }
    )


@router.post("/touch")
async def touched(request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    """The screen was touched without a page change (reading, scrolling): the idle minute
    starts again on the server too."""
    try:
        await sessions.touch(session, runtime.clock, kiosk_key(request), session_token(request))
    except DomainError as exc:
        return JSONResponse({"refused": exc.message}, status_code=403)
    return Response(status_code=204)


def _keypad(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    return render(request, "keypad.html", status, digits=shuffled_keypad(), **context)


@router.get("/card", response_class=HTMLResponse)
async def card_page(request: Request, session: SessionDep) -> Response:
    try:
        kiosk = await devices.authenticate(session, kiosk_key(request))
    except DomainError as exc:
        return refusal(request, exc, ended=True)
    if kiosk.card_state != CardState.PRESENT:
        return see_other("/kiosk")
    return _keypad(request, error=None)


@router.post("/card", response_class=HTMLResponse)
async def card(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    client: ClientDep,
    card_password: Field = "",
) -> Response:
    try:
        token = await identification.identify_with_card(
            runtime,
            session,
            kiosk_key=kiosk_key(request),
            card_password=card_password,
            client=client,
        )
    except DomainError as exc:
        await session.rollback()
        if exc.code in {"unknown_kiosk", "kiosk_revoked"}:
            return refusal(request, exc, ended=True)
        return _keypad(request, 400 if exc.code != "rate_limited" else 429, error=exc.message)
    response = see_other("/kiosk/home")
    set_session_cookie(request, response, token)
    return response


@router.get("/voucher", response_class=HTMLResponse)
async def voucher_page(request: Request, session: SessionDep) -> Response:
    try:
        await devices.authenticate(session, kiosk_key(request))
    except DomainError as exc:
        return refusal(request, exc, ended=True)
    return render(request, "voucher.html", error=None)


@router.post("/voucher", response_class=HTMLResponse)
async def voucher(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    client: ClientDep,
    ec_token: Field = "",
) -> Response:
    """The QR scanner types the ecToken into the focused field, as a keyboard does."""
    try:
        token = await identification.identify_with_voucher(
            runtime, session, kiosk_key=kiosk_key(request), ec_token=ec_token, client=client
        )
    except DomainError as exc:
        await session.rollback()
        if exc.code in {"unknown_kiosk", "kiosk_revoked"}:
            return refusal(request, exc, ended=True)
        return render(request, "voucher.html", 400, error=exc.message)
    response = see_other("/kiosk/home")
    set_session_cookie(request, response, token)
    return response


@router.get("/sms", response_class=HTMLResponse)
async def sms_page(request: Request, session: SessionDep) -> Response:
    try:
        await devices.authenticate(session, kiosk_key(request))
    except DomainError as exc:
        return refusal(request, exc, ended=True)
    return render(request, "sms.html", error=None, attempt=None)


@router.post("/sms", response_class=HTMLResponse)
async def sms_send(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    client: ClientDep,
    id_number: Field = "",
) -> Response:
    try:
        attempt = await identification.send_kiosk_code(
            runtime, session, kiosk_key=kiosk_key(request), id_number=id_number, client=client
        )
    except DomainError as exc:
        await session.rollback()
        if exc.code in {"unknown_kiosk", "kiosk_revoked"}:
            return refusal(request, exc, ended=True)
        return render(request, "sms.html", 400, error=exc.message, attempt=None)
    return render(request, "sms.html", error=None, attempt=attempt, sent=identification.SMS_SENT)


@router.post("/sms/code", response_class=HTMLResponse)
async def sms_code(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    client: ClientDep,
    attempt: Field = "",
    code: Field = "",
) -> Response:
    try:
        token = await identification.identify_with_code(
            runtime, session, kiosk_key=kiosk_key(request), attempt=attempt, code=code,
            client=client,
        )  # fmt: skip
    except DomainError as exc:
        await session.rollback()
        if exc.code in {"unknown_kiosk", "kiosk_revoked"}:
            return refusal(request, exc, ended=True)
        return render(request, "sms.html", 400, error=exc.message, attempt=attempt)
    response = see_other("/kiosk/home")
    set_session_cookie(request, response, token)
    return response


@router.post("/exit")
async def leave(
    request: Request, session: SessionDep, runtime: RuntimeDep, reason: Field = "signed_out"
) -> Response:
    why = EndReason.IDLE if reason == "idle" else EndReason.SIGNED_OUT
    with suppress(DomainError):  # a revoked kiosk still clears its screen
        await sessions.end(session, runtime.clock, kiosk_key(request), session_token(request), why)
    response = see_other(f"/kiosk/bye?reason={why.value}")
    forget_person(response)
    return response


@router.get("/bye", response_class=HTMLResponse)
async def bye(request: Request, reason: str = "signed_out") -> HTMLResponse:
    why = EndReason(reason) if reason in EndReason.__members__.values() else EndReason.SIGNED_OUT
    response = render(request, "bye.html", message=END_MESSAGES[why])
    forget_person(response)
    return response


@router.get("/lang")
async def language(request: Request, to: str = "zh_CN", next: str = "/kiosk") -> Response:
    """The person's language lasts for their visit only: 退出 deletes the cookie (no expiry)."""
    target = safe_next(next, "/kiosk")
    response = see_other(target if target.startswith("/kiosk") else "/kiosk")
    response.set_cookie(LANG_COOKIE, "en" if to == "en" else "zh_CN", httponly=True, path="/")
    return response
