"""Passkeys: options for the browser, adding and removing them, signing in and stepping up."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment import repository as enrolment_repository
from yibao.identity import passkeys as webauthn_rules
from yibao.identity import repository as repo
from yibao.identity.domain import PasskeyRejected, SecurityEventKind, UnknownAccount
from yibao.identity.passkeys import RelyingParty
from yibao.identity.service.common import IssuedSession
from yibao.identity.service.signin import grant_step_up, welcome
from yibao.identity.tables import Passkey
from yibao.kernel.errors import InvalidInput, NotFound
from yibao.runtime import Runtime

_FLOW_TTL = timedelta(minutes=5)


def _flow_key(flow: str) -> str:
    return f"webauthn:{flow}"


async def passkey_options(
    rt: Runtime,
    session: AsyncSession,
    rp: RelyingParty,
    *,
    purpose: str,
    account_id: int | None = None,
) -> tuple[str, str]:
    """Options for the browser and a flow id; purpose "register", "sign_in" or "step_up"."""
    if purpose == "sign_in":
        options, challenge = webauthn_rules.authentication_options(rp, [])
    else:
        if account_id is None:
            raise UnknownAccount("请先登录")
        account = await repo.account(session, account_id)
        if account is None:
            raise UnknownAccount("账户不存在")
        existing = [k.credential_id for k in await repo.passkeys_of(session, account_id)]
        if purpose == "register":
            person = await enrolment_repository.person(session, account.person_id)
            display = person.name if person else account.phone_masked
            handle = f"yibao-account-{account.id}".encode()
            options, challenge = webauthn_rules.registration_options(
                rp, handle, account.phone_masked, display, existing
            )
        elif purpose == "step_up":
            if not existing:
                raise PasskeyRejected("您还没有添加通行密钥，请用短信验证码或医保卡密码验证")
            options, challenge = webauthn_rules.authentication_options(rp, existing)
        else:
            raise InvalidInput("未知用途")
    flow = secrets.token_urlsafe(16)
    held = {"c": base64.b64encode(challenge).decode(), "p": purpose, "a": account_id}
    await rt.ephemeral.put(_flow_key(flow), json.dumps(held), _FLOW_TTL)
    return options, flow


async def _take_flow(rt: Runtime, flow: str, purpose: str, account_id: int | None) -> bytes:
    raw = await rt.ephemeral.get(_flow_key(flow)) if flow else None
    # Only the first answer may use a challenge: two answers racing for one flow both read it, but
    # only one can claim it (an atomic insert), so a replayed answer never makes a second session.
    if raw is None or not await rt.ephemeral.add(f"{_flow_key(flow)}:used", "1", _FLOW_TTL):
        raise PasskeyRejected("本次通行密钥验证已失效（超时或已用过），请重新验证")
    await rt.ephemeral.delete(_flow_key(flow))
    held = json.loads(raw)
    if held["p"] != purpose or held["a"] != account_id:
        raise PasskeyRejected("通行密钥验证无效，请重试")
    return base64.b64decode(held["c"])


async def add_passkey(
    rt: Runtime,
    session: AsyncSession,
    rp: RelyingParty,
    *,
    account_id: int,
    flow: str,
    credential: str,
    name: str,
    via: str,
) -> int:
    challenge = await _take_flow(rt, flow, "register", account_id)
    new = webauthn_rules.verify_registration(rp, credential, challenge)
    if await repo.passkey_by_credential(session, new.credential_id) is not None:
        raise PasskeyRejected("该通行密钥已添加过")
    now = rt.clock.now()
    key = Passkey(
        account_id=account_id,
        credential_id=new.credential_id,
        public_key=new.public_key,
        sign_count=new.sign_count,
        name=(name.strip() or "本机通行密钥")[:50],
        created_at=now,
    )
    session.add(key)
    await session.flush()
    account = await repo.account(session, account_id)
    repo.record_event(
        session,
        SecurityEventKind.PASSKEY_ADDED,
        now,
        channel=via,
        account_id=account_id,
        person_id=account.person_id if account else None,
        passkey_id=key.id,
    )
    await session.commit()
    return key.id


async def remove_passkey(
    rt: Runtime, session: AsyncSession, *, account_id: int, passkey_id: int, via: str
) -> None:
    key = await session.get(Passkey, passkey_id)
    # Someone else's passkey is "not found", exactly like one that never existed (no IDOR tell).
    if key is None or key.account_id != account_id:
        raise NotFound("找不到该通行密钥")
    await session.delete(key)
    repo.record_event(
        session,
        SecurityEventKind.PASSKEY_REMOVED,
        rt.clock.now(),
        channel=via,
        account_id=account_id,
        passkey_id=passkey_id,
    )
    await session.commit()


async def _check_passkey(
    rt: Runtime,
    session: AsyncSession,
    rp: RelyingParty,
    flow: str,
    credential: str,
    purpose: str,
    account_id: int | None,
) -> Passkey:
    challenge = await _take_flow(rt, flow, purpose, account_id)
    key = await repo.passkey_by_credential(session, webauthn_rules.credential_id_of(credential))
    if key is None or (account_id is not None and key.account_id != account_id):
        raise PasskeyRejected("该通行密钥未登记，请用密码登录后在“通行密钥”中添加")
    key.sign_count = webauthn_rules.verify_authentication(
        rp, credential, challenge, key.public_key, key.sign_count
    )
    key.last_used_at = rt.clock.now()
    return key


async def sign_in_with_passkey(
    rt: Runtime,
    session: AsyncSession,
    rp: RelyingParty,
    *,
    flow: str,
    credential: str,
    via: str,
    ua: str = "",
) -> IssuedSession:
    key = await _check_passkey(rt, session, rp, flow, credential, "sign_in", None)
    account = await repo.account(session, key.account_id, lock=True)
    assert account is not None
    # Nothing to guess: the password lockout does not hold a passkey back (docs/identity.md).
    return await welcome(rt, session, account, via, ua, "passkey")


async def step_up_with_passkey(
    rt: Runtime,
    session: AsyncSession,
    rp: RelyingParty,
    *,
    session_id: str,
    account_id: int,
    flow: str,
    credential: str,
    via: str,
) -> None:
    await _check_passkey(rt, session, rp, flow, credential, "step_up", account_id)
    await grant_step_up(rt, session, session_id, account_id, "passkey", via)
