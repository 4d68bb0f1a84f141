"""Identity's JSON API without passkeys: registration, tokens, reset, step-up, card password."""

from __future__ import annotations

import base64
import binascii

from fastapi import APIRouter, Request

from yibao.identity import service as identity
from yibao.identity.domain import CodePurpose
from yibao.identity.realname import RealNameEvidence, make_realname_provider
from yibao.kernel.errors import InvalidInput
from yibao.web.api.auth.models import (
    CardPasswordIn,
    CodeTokenIn,
    EventOut,
    MeOut,
    MessageOut,
    PasskeyOut,
    PasswordTokenIn,
    RegistrationCompleteIn,
    RegistrationIn,
    ResetCodeIn,
    ResetIn,
    SecurityOut,
    SentOut,
    SignedOutOut,
    SmsCodeIn,
    StepUpIn,
    StepUpOut,
    TicketOut,
    TokenOut,
)
from yibao.web.auth import PersonDep, SteppedUpPersonDep
from yibao.web.deps import ClientDep, RuntimeDep, SessionDep

router = APIRouter(prefix="/api/v1/auth", tags=["auth 登录与验证"])


def _ua(request: Request) -> str:
    return request.headers.get("user-agent", "")


@router.post("/sms-codes", response_model=SentOut)
async def send_sms_code(
    body: SmsCodeIn, runtime: RuntimeDep, session: SessionDep, client: ClientDep
) -> SentOut:
    purpose = CodePurpose(body.purpose)
    masked = await identity.send_code(
        runtime, session, body.phone, purpose, client=client, via="bearer"
    )
    return SentOut(sent_to=masked)


@router.post("/registrations", response_model=TicketOut)
async def start_registration(
    body: RegistrationIn, runtime: RuntimeDep, session: SessionDep, client: ClientDep
) -> TicketOut:
    ticket = await identity.start_registration(
        runtime, session, body.phone, body.code, body.password, via="bearer", client=client
    )
    return TicketOut(ticket=ticket)


@router.post("/registrations/complete", response_model=TokenOut, status_code=201)
async def complete_registration(
    body: RegistrationCompleteIn, request: Request, runtime: RuntimeDep, session: SessionDep
) -> TokenOut:
    try:
        image = base64.b64decode(body.image_base64, validate=True) if body.image_base64 else b""
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("照片应为 base64 编码") from exc
    settings = runtime.settings
    issued = await identity.complete_registration(
        runtime,
        session,
        make_realname_provider(settings.realname_endpoint, settings.realname_key),
        ticket=body.ticket,
        name=body.name,
        id_number=body.id_number,
        evidence=RealNameEvidence(method=body.method, image=image),
        via="bearer",
        user_agent=_ua(request),
    )
    return TokenOut(token=issued.token, device_token=issued.device)


@router.post("/tokens", response_model=TokenOut, status_code=201)
async def sign_in_with_password(
    body: PasswordTokenIn,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    client: ClientDep,
) -> TokenOut:
    issued = await identity.sign_in_with_password(
        runtime,
        session,
        body.identifier,
        body.password,
        via="bearer",
        client=client,
        ua=_ua(request),
        device=body.device_token,
    )
    return TokenOut(token=issued.token, device_token=issued.device)


@router.post("/tokens/sms", response_model=TokenOut, status_code=201)
async def sign_in_with_code(
    body: CodeTokenIn,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    client: ClientDep,
) -> TokenOut:
    issued = await identity.sign_in_with_code(
        runtime, session, body.phone, body.code, via="bearer", client=client, ua=_ua(request)
    )
    return TokenOut(token=issued.token, device_token=issued.device)


@router.post("/password-reset/code", response_model=MessageOut)
async def send_reset_code(
    body: ResetCodeIn, runtime: RuntimeDep, session: SessionDep, client: ClientDep
) -> MessageOut:
    message = await identity.send_reset_code(
        runtime, session, body.id_number, client=client, via="bearer"
    )
    return MessageOut(message=message)


@router.post("/password-reset", response_model=MessageOut)
async def reset_password(
    body: ResetIn, runtime: RuntimeDep, session: SessionDep, client: ClientDep
) -> MessageOut:
    await identity.reset_password(
        runtime,
        session,
        id_number=body.id_number,
        code=body.code,
        new_password=body.new_password,
        via="bearer",
        client=client,
    )
    return MessageOut(message="密码已重置，账户已解锁，请用新密码登录")


@router.get("/me", response_model=MeOut)
async def me(person: PersonDep, runtime: RuntimeDep, session: SessionDep) -> MeOut:
    until = person.step_up_until
    if until is None or until <= runtime.clock.now():
        return MeOut(stepped_up=False, step_up_until=None)
    overview = await identity.account_overview(runtime, session, person.account_id)
    return MeOut(
        stepped_up=True,
        step_up_until=until,
        name=overview.name,
        id_number_masked=overview.id_number_masked,
        phone_masked=overview.phone_masked,
        real_name_method=overview.real_name_method,
        has_card_password=overview.has_card_password,
    )


@router.post("/step-up/code", response_model=SentOut)
async def send_step_up_code(
    person: PersonDep, runtime: RuntimeDep, session: SessionDep, client: ClientDep
) -> SentOut:
    masked = await identity.send_code_to_account(
        runtime, session, person.account_id, CodePurpose.STEP_UP, client=client, via="bearer"
    )
    return SentOut(sent_to=masked)


@router.post("/step-up", response_model=StepUpOut)
async def step_up(
    body: StepUpIn, person: PersonDep, runtime: RuntimeDep, session: SessionDep, client: ClientDep
) -> StepUpOut:
    if body.method == "sms":
        await identity.step_up_with_code(
            runtime,
            session,
            session_id=person.session_id,
            account_id=person.account_id,
            code=body.code,
            via="bearer",
            client=client,
        )
    else:
        await identity.step_up_with_card_password(
            runtime,
            session,
            session_id=person.session_id,
            account_id=person.account_id,
            card_password=body.card_password,
            via="bearer",
            client=client,
        )
    until = runtime.clock.now() + identity.policy_of(runtime.settings).step_up_window
    return StepUpOut(step_up_until=until)


@router.post("/card-password/code", response_model=SentOut)
async def send_card_password_code(
    person: PersonDep, runtime: RuntimeDep, session: SessionDep, client: ClientDep
) -> SentOut:
    purpose = CodePurpose.CARD_PASSWORD
    masked = await identity.send_code_to_account(
        runtime, session, person.account_id, purpose, client=client, via="bearer"
    )
    return SentOut(sent_to=masked)


@router.post("/card-password", response_model=MessageOut)
async def set_card_password(
    body: CardPasswordIn,
    person: PersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
    client: ClientDep,
) -> MessageOut:
    await identity.set_card_password(
        runtime,
        session,
        account_id=person.account_id,
        id_number=body.id_number,
        code=body.code,
        card_password=body.card_password,
        via="bearer",
        client=client,
    )
    return MessageOut(message="医保卡密码已设置")


@router.get("/security", response_model=SecurityOut)
async def security(
    person: SteppedUpPersonDep, runtime: RuntimeDep, session: SessionDep
) -> SecurityOut:
    overview = await identity.account_overview(runtime, session, person.account_id)
    return SecurityOut(
        passkeys=[PasskeyOut(id=i, name=n, created=c) for i, n, c in overview.passkeys],
        events=[EventOut(at=a, kind=k, channel=c) for a, k, c in overview.events],
        active_sessions=overview.active_sessions,
    )


@router.post("/sign-out", status_code=204)
async def sign_out(person: PersonDep, runtime: RuntimeDep, session: SessionDep) -> None:
    await identity.sign_out(runtime, session, person.session_id, via="bearer")


@router.post("/sign-out-everywhere", response_model=SignedOutOut)
async def sign_out_everywhere(
    person: PersonDep, runtime: RuntimeDep, session: SessionDep
) -> SignedOutOut:
    ended = await identity.sign_out_everywhere(runtime, session, person.account_id, via="bearer")
    return SignedOutOut(sessions_ended=ended)
