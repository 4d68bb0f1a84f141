"""Passkeys on the JSON API: add, list and remove one's own; sign in and step up with one.

Each action is two calls: `…/options` returns WebAuthn options and a flow id; the client passes the
options to the authenticator (`navigator.credentials.create/get`, or the platform's passkey API)
and posts its answer with the flow id. The use cases are the pages' own (`identity.service`).
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.identity import service as identity
from yibao.runtime import Runtime
from yibao.web.api.auth.models import (
    PasskeyAssertionIn,
    PasskeyListOut,
    PasskeyOptionsOut,
    PasskeyOut,
    PasskeyRegistrationIn,
    StepUpOut,
    TokenOut,
)
from yibao.web.auth import PersonDep, SteppedUpPersonDep
from yibao.web.deps import RuntimeDep, SessionDep
from yibao.web.ids import RowId
from yibao.web.sessions import relying_party

router = APIRouter(prefix="/api/v1/auth", tags=["auth 登录与验证"])


def _options(options: str, flow: str) -> PasskeyOptionsOut:
    return PasskeyOptionsOut(flow=flow, options=json.loads(options))


async def _own_passkeys(
    runtime: Runtime, session: AsyncSession, account_id: int
) -> list[PasskeyOut]:
    overview = await identity.account_overview(runtime, session, account_id)
    return [PasskeyOut(id=i, name=n, created=c) for i, n, c in overview.passkeys]


@router.get("/passkeys", response_model=PasskeyListOut)
async def list_passkeys(
    person: PersonDep, runtime: RuntimeDep, session: SessionDep
) -> PasskeyListOut:
    return PasskeyListOut(passkeys=await _own_passkeys(runtime, session, person.account_id))


@router.post("/passkeys/options", response_model=PasskeyOptionsOut)
async def passkey_registration_options(
    request: Request, person: PersonDep, runtime: RuntimeDep, session: SessionDep
) -> PasskeyOptionsOut:
    options, flow = await identity.passkey_options(
        runtime, session, relying_party(request), purpose="register", account_id=person.account_id
    )
    return _options(options, flow)


@router.post("/passkeys", response_model=PasskeyOut, status_code=201)
async def add_passkey(
    body: PasskeyRegistrationIn,
    request: Request,
    person: PersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> PasskeyOut:
    passkey_id = await identity.add_passkey(
        runtime,
        session,
        relying_party(request),
        account_id=person.account_id,
        flow=body.flow,
        credential=body.credential.model_dump_json(by_alias=True, exclude_none=True),
        name=body.name,
        via="bearer",
    )
    added = await _own_passkeys(runtime, session, person.account_id)
    return next(key for key in added if key.id == passkey_id)


@router.delete("/passkeys/{passkey_id}", status_code=204)
async def delete_passkey(
    passkey_id: RowId, person: SteppedUpPersonDep, runtime: RuntimeDep, session: SessionDep
) -> None:
    await identity.remove_passkey(
        runtime, session, account_id=person.account_id, passkey_id=passkey_id, via="bearer"
    )


@router.post("/tokens/passkey/options", response_model=PasskeyOptionsOut)
async def passkey_sign_in_options(
    request: Request, runtime: RuntimeDep, session: SessionDep
) -> PasskeyOptionsOut:
    options, flow = await identity.passkey_options(
        runtime, session, relying_party(request), purpose="sign_in"
    )
    return _options(options, flow)


@router.post("/tokens/passkey", response_model=TokenOut, status_code=201)
async def sign_in_with_passkey(
    body: PasskeyAssertionIn, request: Request, runtime: RuntimeDep, session: SessionDep
) -> TokenOut:
    issued = await identity.sign_in_with_passkey(
        runtime,
        session,
        relying_party(request),
        flow=body.flow,
        credential=body.credential.model_dump_json(by_alias=True, exclude_none=True),
        via="bearer",
        ua=request.headers.get("user-agent", ""),
    )
    return TokenOut(token=issued.token, device_token=issued.device)


@router.post("/step-up/passkey/options", response_model=PasskeyOptionsOut)
async def passkey_step_up_options(
    request: Request, person: PersonDep, runtime: RuntimeDep, session: SessionDep
) -> PasskeyOptionsOut:
    options, flow = await identity.passkey_options(
        runtime, session, relying_party(request), purpose="step_up", account_id=person.account_id
    )
    return _options(options, flow)


@router.post("/step-up/passkey", response_model=StepUpOut)
async def step_up_with_passkey(
    body: PasskeyAssertionIn,
    request: Request,
    person: PersonDep,
    runtime: RuntimeDep,
    session: SessionDep,
) -> StepUpOut:
    await identity.step_up_with_passkey(
        runtime,
        session,
        relying_party(request),
        session_id=person.session_id,
        account_id=person.account_id,
        flow=body.flow,
        credential=body.credential.model_dump_json(by_alias=True, exclude_none=True),
        via="bearer",
    )
    until = runtime.clock.now() + identity.policy_of(runtime.settings).step_up_window
    return StepUpOut(step_up_until=until)
