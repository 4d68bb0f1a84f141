"""Secrets never reach the log (issue #24, item 1).

Each request below reaches the internal-error path with a secret in play — in the request, in
the failing function's local variables and in the exception's own message — and the test greps
what was logged for it. Before yibao.logs the unhandled-error log carried the traceback's locals.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import settlement_world
from tests.support.identity import CARD_PASSWORD, PASSWORD, member, stepped_up_bearer
from tests.support.leaks import SUITE_LOG, find_leaks
from tests.web.identity_client import post_form
from yibao.enrolment import repository as enrolment_repository
from yibao.identity import service as identity
from yibao.identity.service import card_password, signin, staff
from yibao.logs import scrub
from yibao.runtime import Runtime
from yibao.settlement.service import messages
from yibao.statements import service as statements
from yibao.web.app import create_app

STAFF_PASSWORD = "Staff@2026"  # noqa: S105 - a test credential


class LogWindow:
    """What the suite's log gained since the window opened."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.start = path.stat().st_size

    def text(self) -> str:
        for handler in logging.getLogger().handlers:
            handler.flush()
        with self.path.open("rb") as f:
            f.seek(self.start)
            return f.read().decode("utf-8")


@pytest.fixture
def log_window() -> Iterator[LogWindow]:
    yield LogWindow(SUITE_LOG[0])


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """As a browser sees the server: a failure is a 500 answer, not an exception in the test."""
    transport = httpx.ASGITransport(app=create_app(runtime=runtime), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def failing(*secrets: Any) -> Any:
    """A stand-in that fails unexpectedly, quoting its arguments in its message and holding them
    as locals, as a real bug deep in a use case would."""

    def boom(*args: Any, **kwargs: Any) -> Any:
        held = (args, kwargs, secrets)
        raise RuntimeError(f"unexpected: {held!r}")

    return boom


def assert_logged_without(window: LogWindow, *secrets: str) -> None:
    text = window.text()
    assert '"level": "error"' in text, "the failure was not logged at all"
    leaks = find_leaks(text, tuple(s for s in secrets if s))
    assert not leaks, "\n".join(leaks)


async def test_person_sign_in_failure_logs_no_password_or_id(
    runtime: Runtime,
    session: AsyncSession,
    client: httpx.AsyncClient,
    log_window: LogWindow,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    li = await member(runtime, session)
    monkeypatch.setattr(signin, "password_matches", failing())
    answer = await client.post(
        "/api/v1/auth/tokens", json={"identifier": li.id_number, "password": PASSWORD}
    )
    assert answer.status_code == 500
    assert PASSWORD not in answer.text and li.id_number not in answer.text
    assert_logged_without(log_window, PASSWORD, li.id_number, li.phone)


async def test_staff_sign_in_failure_logs_no_password_or_totp(
    runtime: Runtime,
    session: AsyncSession,
    client: httpx.AsyncClient,
    log_window: LogWindow,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, secret = await identity.create_staff(
        runtime,
        session,
        username="clerk7",
        name="王晓红",
        password=STAFF_PASSWORD,
        roles=["clerk"],
        office="徐汇",
    )
    code = pyotp.TOTP(secret).now()
    # Fails after the TOTP secret was decrypted: the secret, the code and the password are locals.
    monkeypatch.setattr(staff, "password_matches", failing())
    answer = await post_form(
        client, "/staff/login", username="clerk7", password=STAFF_PASSWORD, totp=code
    )
    assert answer.status_code == 500
    assert_logged_without(log_window, STAFF_PASSWORD, secret, code)


async def test_bearer_request_failure_logs_no_token(
    runtime: Runtime,
    session: AsyncSession,
    client: httpx.AsyncClient,
    log_window: LogWindow,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    li = await member(runtime, session)
    headers = await stepped_up_bearer(client, li.phone)
    token = headers["Authorization"].split()[1]
    # The overview checks its caller in its own statement (web/caller.py): that read fails.
    monkeypatch.setattr(statements, "caller_account_overview", failing(token))
    answer = await client.get("/api/v1/account", headers=headers)
    assert answer.status_code == 500
    assert_logged_without(log_window, token, li.id_number, li.phone, CARD_PASSWORD)


async def test_card_password_step_up_failure_logs_no_card_password(
    runtime: Runtime,
    session: AsyncSession,
    client: httpx.AsyncClient,
    log_window: LogWindow,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    li = await member(runtime, session)
    signed_in = await client.post(
        "/api/v1/auth/tokens", json={"identifier": li.phone, "password": PASSWORD}
    )
    token = signed_in.json()["token"]
    monkeypatch.setattr(card_password, "password_matches", failing())
    answer = await client.post(
        "/api/v1/auth/step-up",
        json={"method": "card_password", "card_password": CARD_PASSWORD},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 500
    assert_logged_without(log_window, token, CARD_PASSWORD)


async def test_institution_message_failure_logs_no_token_or_id(
    runtime: Runtime,
    session: AsyncSession,
    client: httpx.AsyncClient,
    log_window: LogWindow,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    w = await settlement_world.build(runtime, session, client)
    id_number = enrolment_repository.decrypt_id_number(runtime.cipher, w.person.person)
    await session.close()
    monkeypatch.setattr(messages, "verify_gateway", failing(w.hospital.token))
    answer = await w.hospital.call(
        "1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": id_number, "psn_name": "张伟"}}
    )
    assert answer["infcode"] == -1 and id_number not in str(answer)
    assert_logged_without(log_window, w.hospital.token, id_number)


@pytest.mark.parametrize(
    "text",
    [
        "身份证 31010419850315001X",
        "phone=13800138000",
        "Authorization: Bearer abc.def-ghi",
        "您的验证码为 482913，5分钟内有效",
        "token 9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    ],
)
def test_scrub_removes_each_shape(text: str) -> None:
    cleaned = scrub(text)
    assert not find_leaks(cleaned)
    for secret in ("31010419850315001X", "13800138000", "abc.def-ghi", "482913", "9f8e7d6c5b"):
        assert secret not in cleaned
