"""Registration (/register), 忘记密码 (/forgot), 医保卡密码 (/card-password), /dev/sms."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException

from yibao.identity import service as identity
from yibao.identity.domain import PASSWORD_RULE, CodePurpose, WeakPassword
from yibao.identity.realname import RealNameEvidence, make_realname_provider
from yibao.kernel.errors import DomainError, InvalidInput
from yibao.notifications import repository as outbox
from yibao.notifications.domain import Channel, OutboxStatus
from yibao.notifications.senders import delivered_in_development
from yibao.notifications.service import text_to_send
from yibao.web.auth import PersonDep
from yibao.web.deps import ClientDep, RuntimeDep, SessionDep
from yibao.web.pages.credentials import send_code_to_own_phone, signed_in
from yibao.web.pages.page import render, render_error
from yibao.web.sessions import verify_csrf

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)

Text = Annotated[str, Form()]
MAX_PHOTO_BYTES = 5 * 1024 * 1024


def _same(first: str, second: str, what: str) -> None:
    if first != second:
        raise InvalidInput(f"两次输入的{what}不一致")


@router.get("/register", response_class=HTMLResponse)
async def register_page(request: Request) -> HTMLResponse:
    return render(request, "register.html", step="phone")


@router.post("/register/code", response_class=HTMLResponse)
async def register_send_code(
    request: Request, runtime: RuntimeDep, session: SessionDep, client: ClientDep, phone: Text
) -> Response:
    try:
        masked = await identity.send_code(
            runtime, session, phone, CodePurpose.REGISTER, client=client, via="cookie"
        )
    except DomainError as exc:
        return render_error(request, "register.html", exc, step="phone", phone=phone)
    return render(
        request,
        "register.html",
        step="password",
        phone=phone,
        rule=PASSWORD_RULE,
        notice=f"验证码已发送至 {masked}，5分钟内有效",
    )


@router.post("/register/password", response_class=HTMLResponse)
async def register_password(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    client: ClientDep,
    phone: Text,
    code: Text,
    password: Text,
    password2: Text,
) -> Response:
    try:
        _same(password, password2, "密码")
        ticket = await identity.start_registration(
            runtime, session, phone, code, password, via="cookie", client=client
        )
    except DomainError as exc:
        return render_error(
            request,
            "register.html",
            exc,
            step="password",
            phone=phone,
            rule=PASSWORD_RULE,
            weak=isinstance(exc, WeakPassword),
        )
    return render(request, "register.html", step="realname", ticket=ticket)


@router.post("/register/realname", response_class=HTMLResponse)
async def register_realname(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    ticket: Text,
    name: Text,
    id_number: Text,
    method: Annotated[str, Form()] = "face",
    photo: Annotated[UploadFile | None, File()] = None,
) -> Response:
    image = b""
    if photo is not None and photo.filename:
        image = await photo.read(MAX_PHOTO_BYTES + 1)
    settings = runtime.settings
    provider = make_realname_provider(settings.realname_endpoint, settings.realname_key)
    try:
        if len(image) > MAX_PHOTO_BYTES:
            raise InvalidInput("照片不能超过5MB")
        issued = await identity.complete_registration(
            runtime,
            session,
            provider,
            ticket=ticket,
            name=name,
            id_number=id_number,
            evidence=RealNameEvidence(method=method, image=image),
            via="cookie",
            user_agent=request.headers.get("user-agent", ""),
        )
    except DomainError as exc:
        return render_error(
            request,
            "register.html",
            exc,
            step="realname",
            ticket=ticket,
            name=name,
            id_number=id_number,
            method=method,
        )
    return signed_in(request, issued, "/passkeys?welcome=1")


@router.get("/forgot", response_class=HTMLResponse)
async def forgot_page(request: Request) -> HTMLResponse:
    return render(request, "forgot.html", step="id")


@router.post("/forgot/code", response_class=HTMLResponse)
async def forgot_send_code(
    request: Request, runtime: RuntimeDep, session: SessionDep, client: ClientDep, id_number: Text
) -> Response:
    try:
        message = await identity.send_reset_code(
            runtime, session, id_number, client=client, via="cookie"
        )
    except DomainError as exc:
        return render_error(request, "forgot.html", exc, step="id", id_number=id_number)
    return render(
        request,
        "forgot.html",
        step="reset",
        id_number=id_number,
        notice=message,
        rule=PASSWORD_RULE,
    )


@router.post("/forgot", response_class=HTMLResponse)
async def forgot_reset(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    client: ClientDep,
    id_number: Text,
    code: Text,
    password: Text,
    password2: Text,
) -> Response:
    try:
        _same(password, password2, "密码")
        await identity.reset_password(
            runtime,
            session,
            id_number=id_number,
            code=code,
            new_password=password,
            via="cookie",
            client=client,
        )
    except DomainError as exc:
        return render_error(
            request, "forgot.html", exc, step="reset", id_number=id_number, rule=PASSWORD_RULE
        )
    return render(request, "forgot.html", step="done")


@router.get("/card-password", response_class=HTMLResponse)
async def card_password_page(request: Request, person: PersonDep) -> HTMLResponse:
    return render(request, "card_password.html")


@router.post("/card-password/code", response_class=HTMLResponse)
async def card_password_send_code(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    person: PersonDep,
    client: ClientDep,
) -> Response:
    return await send_code_to_own_phone(
        request,
        runtime,
        session,
        person.account_id,
        CodePurpose.CARD_PASSWORD,
        "card_password.html",
        client,
    )


@router.post("/card-password", response_class=HTMLResponse)
async def card_password_set(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    person: PersonDep,
    client: ClientDep,
    id_number: Text,
    code: Text,
    card_password: Text,
    card_password2: Text,
) -> Response:
    try:
        _same(card_password, card_password2, "医保卡密码")
        await identity.set_card_password(
            runtime,
            session,
            account_id=person.account_id,
            id_number=id_number,
            code=code,
            card_password=card_password,
            via="cookie",
            client=client,
        )
    except DomainError as exc:
        return render_error(request, "card_password.html", exc, code_sent=True)
    return render(request, "card_password.html", done=True)


def _from_this_machine(client: str) -> bool:
    """The caller is on the server's own machine: 127.0.0.0/8 or ::1 (also IPv4-mapped)."""
    try:
        ip = ipaddress.ip_address(client)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


@router.get("/dev/sms", response_class=HTMLResponse)
async def dev_sms(
    request: Request, runtime: RuntimeDep, session: SessionDep, client: ClientDep
) -> HTMLResponse:
    """Development only, and only to the machine it runs on: the SMS outbox, so codes can be
    read without a phone. Anywhere else it would hand anyone the code to reset anyone's password;
    it is as absent as any unknown page."""
    if not runtime.settings.is_development or not _from_this_machine(client):
        raise HTTPException(status_code=404, detail="页面不存在")
    # Waiting messages from the outbox (a code unsealed for the page), and delivered ones from the
    # development inbox, which keeps them only as long as a code lives (the outbox erased them).
    keep_for = timedelta(seconds=runtime.settings.sms_code_ttl_seconds)
    waiting = [
        _DevSms(m.created_at, m.phone_masked or "", text_to_send(runtime.cipher, m), m.status)
        for m in await outbox.recent(session, channel=Channel.SMS, limit=30)
        if m.status != OutboxStatus.SENT
    ]
    delivered = [
        _DevSms(m.at, m.phone_masked, m.text, OutboxStatus.SENT.value)
        for m in await delivered_in_development(runtime.ephemeral, keep_for)
    ]
    messages = sorted(waiting + delivered, key=lambda m: m.created_at, reverse=True)[:30]
    return render(request, "dev_sms.html", messages=messages)


@dataclass(frozen=True, slots=True)
class _DevSms:
    created_at: datetime
    phone_masked: str
    body: str
    status: str
