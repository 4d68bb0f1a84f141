"""SMS codes in the outbox (issue #24, item 10): the outbox holds a code only sealed (encrypted
with the runtime's data key) and only until delivery; the development sender logs no code; and
/dev/sms still shows a developer the codes, before delivery and after."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.identity import CLIENT, member
from yibao.cli.server import make_sms_sender
from yibao.identity import service as identity
from yibao.identity.domain import CodePurpose
from yibao.notifications import service as delivery
from yibao.notifications.senders import DevelopmentSmsSender, UnconfiguredSmsSender
from yibao.notifications.tables import OutboxMessage
from yibao.runtime import Runtime

_CODE = re.compile(r"验证码为 (\d{6})")


async def _rows(session: AsyncSession) -> list[OutboxMessage]:
    await session.rollback()
    stmt = select(OutboxMessage).where(OutboxMessage.channel == "sms")
    rows = list((await session.execute(stmt)).scalars())
    session.expunge_all()  # read as they are now, not reloaded after the rollback
    await session.rollback()
    return rows


def _holds(row: OutboxMessage, code: str) -> bool:
    """Whether the row keeps the code anywhere a reader of the database could see it."""
    seen = [row.body, row.subject, row.dedup_key, row.last_error or ""]
    return any(code in text for text in seen) or code.encode() in (row.body_enc or b"")


async def test_the_outbox_keeps_a_code_sealed_and_only_until_delivery(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    li = await member(runtime, session, name="李华")
    await identity.send_code(
        runtime, session, li.phone, CodePurpose.SIGN_IN, client=CLIENT, via="bearer"
    )
    [queued] = await _rows(session)
    found = _CODE.search(delivery.text_to_send(runtime.cipher, queued))
    assert found, "the sealed text is the SMS to send"
    code = found.group(1)
    assert not _holds(queued, code) and queued.body_enc is not None
    assert "验证码已发送" in queued.body and "5分钟内有效" in queued.body

    # /dev/sms shows it to a developer before delivery…
    page = await client.get("/dev/sms")
    assert page.status_code == 200 and f"验证码为 {code}" in page.text

    sender = DevelopmentSmsSender(runtime.ephemeral, timedelta(minutes=5))
    with structlog.testing.capture_logs() as logs:
        async with runtime.sessions() as worker:
            assert await delivery.deliver_due(worker, runtime.clock, runtime.cipher, sender) == 1
    assert logs and code not in repr(logs)

    [sent] = await _rows(session)
    assert sent.status == "sent" and sent.body_enc is None and not _holds(sent, code)
    # …and after: the development inbox keeps delivered messages as long as a code lives.
    page = await client.get("/dev/sms")
    assert f"验证码为 {code}" in page.text and li.phone not in page.text


async def test_production_without_a_gateway_sends_shows_and_logs_nothing(
    runtime: Runtime, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("YIBAO_SMS_ENDPOINT", raising=False)
    assert isinstance(make_sms_sender(runtime), DevelopmentSmsSender)  # the suite's test mode
    runtime.settings = runtime.settings.model_copy(update={"environment": "production"})
    sender = make_sms_sender(runtime)
    assert isinstance(sender, UnconfiguredSmsSender)

    li = await member(runtime, session, name="李华")
    await identity.send_code(
        runtime, session, li.phone, CodePurpose.SIGN_IN, client=CLIENT, via="bearer"
    )
    [queued] = await _rows(session)
    code = _CODE.search(delivery.text_to_send(runtime.cipher, queued))
    assert code
    with structlog.testing.capture_logs() as logs:
        async with runtime.sessions() as worker:
            await delivery.deliver_due(worker, runtime.clock, runtime.cipher, sender)
    [waiting] = await _rows(session)
    assert waiting.status == "pending" and "YIBAO_SMS_ENDPOINT" in (waiting.last_error or "")
    assert code.group(1) not in repr(logs) and not _holds(waiting, code.group(1))
