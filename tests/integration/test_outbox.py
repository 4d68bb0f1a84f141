"""The outbox (rule 10): delivered after commit, retried with backoff, nothing for a rollback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.support.world import define_regions, enrol
from yibao.kernel.clock import FixedClock
from yibao.notifications import repository as outbox
from yibao.notifications import service as delivery
from yibao.notifications.domain import MAX_ATTEMPTS, Channel
from yibao.notifications.senders import SmsDeliveryFailed
from yibao.notifications.tables import Notice, OutboxMessage
from yibao.runtime import Runtime


class RecordingSender:
    def __init__(self, fail_times: int = 0) -> None:
        self.sent: list[tuple[str, str]] = []
        self.fail_times = fail_times

    async def send(self, phone: str, text: str) -> None:
        if self.fail_times > 0:
            self.fail_times -= 1
            raise SmsDeliveryFailed("gateway down")
        self.sent.append((phone, text))


async def _person(runtime: Runtime) -> tuple[int, str]:
    async with runtime.sessions() as s:
        await define_regions(s)
        enrolled = await enrol(runtime, s, phone="13911112222")
        return enrolled.person.id, "13911112222"


async def _enqueue(runtime: Runtime, person_id: int, key: str, commit: bool) -> None:
    async with runtime.sessions() as s:
        for channel in (Channel.SMS, Channel.INAPP):
            await outbox.enqueue(
                s,
                channel=channel,
                dedup_key=f"{key}:{channel}",
                subject="消费提醒",
                body="您的医保个人账户支付 12.00 元",
                now=runtime.clock.now(),
                person_id=person_id,
            )
        if commit:
            await s.commit()
        else:
            await s.rollback()


async def test_delivered_once_after_commit_and_nothing_for_rollback(runtime: Runtime) -> None:
    person_id, phone = await _person(runtime)
    await _enqueue(runtime, person_id, "ok", commit=True)
    await _enqueue(runtime, person_id, "ok", commit=True)  # same event twice: one message
    await _enqueue(runtime, person_id, "rolled-back", commit=False)
    sender = RecordingSender()
    async with runtime.sessions() as s:
        assert await delivery.deliver_due(s, runtime.clock, runtime.cipher, sender) == 2
    async with runtime.sessions() as s:
        assert await delivery.deliver_due(s, runtime.clock, runtime.cipher, sender) == 0
        notices = (await s.execute(select(Notice))).scalars().all()
    assert sender.sent == [(phone, "您的医保个人账户支付 12.00 元")]
    assert [n.subject for n in notices] == ["消费提醒"]


async def test_failures_back_off_and_give_up(runtime: Runtime) -> None:
    person_id, _ = await _person(runtime)
    async with runtime.sessions() as s:
        await outbox.enqueue(
            s,
            channel=Channel.SMS,
            dedup_key="retry",
            subject="s",
            body="b",
            now=runtime.clock.now(),
            person_id=person_id,
        )
        await s.commit()
    clock = FixedClock(datetime.now(UTC))
    sender = RecordingSender(fail_times=1)
    async with runtime.sessions() as s:
        await delivery.deliver_due(s, clock, runtime.cipher, sender)
    async with runtime.sessions() as s:
        assert await delivery.deliver_due(s, clock, runtime.cipher, sender) == 0  # not due yet
    clock.advance(timedelta(seconds=31))
    async with runtime.sessions() as s:
        assert await delivery.deliver_due(s, clock, runtime.cipher, sender) == 1
        message = (await s.execute(select(OutboxMessage))).scalar_one()
    assert message.status == "sent" and message.attempts == 2 and len(sender.sent) == 1

    async with runtime.sessions() as s:
        await outbox.enqueue(
            s,
            channel=Channel.SMS,
            dedup_key="never",
            subject="s",
            body="b",
            now=clock.now(),
            person_id=person_id,
        )
        await s.commit()
    always_failing = RecordingSender(fail_times=10**6)
    for _ in range(MAX_ATTEMPTS):
        clock.advance(timedelta(hours=2))
        async with runtime.sessions() as s:
            await delivery.deliver_due(s, clock, runtime.cipher, always_failing)
    async with runtime.sessions() as s:
        failed = (
            await s.execute(select(OutboxMessage).where(OutboxMessage.dedup_key == "never"))
        ).scalar_one()
    assert failed.status == "failed" and failed.attempts == MAX_ATTEMPTS
    assert failed.last_error == "gateway down"
