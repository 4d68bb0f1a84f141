"""The account overview the person sees on 账户与安全: masked details, passkeys, recent events."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment import repository as enrolment_repository
from yibao.identity import repository as repo
from yibao.identity.domain import SECURITY_EVENT_NAMES, SecurityEventKind, UnknownAccount
from yibao.identity.realname import METHOD_NAMES
from yibao.identity.service.common import china_minute
from yibao.runtime import Runtime


@dataclass(frozen=True, slots=True)
class AccountOverview:
    name: str
    id_number_masked: str
    phone_masked: str
    real_name_method: str
    has_card_password: bool
    passkeys: list[tuple[int, str, str]]  # id, name, created (Beijing time)
    events: list[tuple[str, str, str]]  # time, kind name, channel
    active_sessions: int


async def account_overview(rt: Runtime, session: AsyncSession, account_id: int) -> AccountOverview:
    found = await repo.account(session, account_id)
    if found is None:
        raise UnknownAccount("账户不存在")
    person = await enrolment_repository.person(session, found.person_id)
    assert person is not None
    keys = await repo.passkeys_of(session, account_id)
    events = await repo.events_of_account(session, account_id, limit=20)
    return AccountOverview(
        name=person.name,
        id_number_masked=person.id_number_masked,
        phone_masked=found.phone_masked,
        real_name_method=METHOD_NAMES.get(found.real_name_method, found.real_name_method),
        has_card_password=found.card_password_hash is not None,
        passkeys=[(k.id, k.name, china_minute(k.created_at)) for k in keys],
        events=[(china_minute(e.at), _event_text(e.kind, e.detail), e.channel) for e in events],
        active_sessions=len(await repo.active_sessions(session, account_id)),
    )


_METHOD_NAMES = {
    "password": "密码",
    "sms": "短信验证码",
    "passkey": "通行密钥",
    "card_password": "医保卡密码",
    "registration": "注册后",
    **METHOD_NAMES,
}


def _event_text(kind: str, detail: str) -> str:
    text = SECURITY_EVENT_NAMES.get(SecurityEventKind(kind), kind)
    method = json.loads(detail).get("method") if detail.startswith("{") else None
    return f"{text}（{_METHOD_NAMES[method]}）" if method in _METHOD_NAMES else text
