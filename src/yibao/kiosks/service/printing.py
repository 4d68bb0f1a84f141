"""The 个人账户结算单 on the kiosk's own printer.

The person asks; a job waits for the kiosk's bridge, which fetches the PDF (made then, never
stored) and prints it through the kiosk's CUPS. A printer the bridge last reported as out of
paper or offline refuses at once, and the person can have the statement on the phone instead."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import repository as audit_repository
from yibao.audit.domain import ActorType
from yibao.kernel.clock import Clock
from yibao.kiosks import repository
from yibao.kiosks.domain import (
    MAX_PRINT_DAYS,
    PrinterUnavailable,
    PrintState,
    UnknownPrintJob,
    who,
)
from yibao.kiosks.service.sessions import Open, touch
from yibao.kiosks.tables import KioskPrintJob
from yibao.notifications import repository as notifications
from yibao.notifications.domain import Channel
from yibao.statements.domain import DayRange, InvalidFilter


@dataclass(frozen=True, slots=True)
class JobState:
    job_id: int
    state: str
    message: str | None


def _check_days(days: DayRange) -> None:
    if (days.until - days.since).days > MAX_PRINT_DAYS:
        raise InvalidFilter("自助查询机一次最多打印 1 年的结算单，请缩小范围")


async def request_print(
    session: AsyncSession, clock: Clock, key: str, token: str, days: DayRange
) -> int:
    _check_days(days)
    opened = await touch(session, clock, key, token)
    kiosk = await repository.kiosk(session, opened.kiosk_id)
    assert kiosk is not None
    if kiosk.printer_problem:
        raise PrinterUnavailable(
            f"{kiosk.printer_problem}，暂时无法打印。可以把结算单发送到您的手机上查看。"
        )
    now = clock.now()
    job = KioskPrintJob(
        kiosk_id=opened.kiosk_id,
        session_id=opened.session_id,
        person_id=opened.person_id,
        since=days.since,
        until=days.until,
        state=PrintState.QUEUED.value,
        created_at=now,
        updated_at=now,
    )
    repository.add_print_job(session, job)
    await session.flush()
    await _record(session, opened, "statement.print", days, clock)
    await session.commit()
    return job.id


async def _record(
    session: AsyncSession, opened: Open, action: str, days: DayRange, clock: Clock
) -> None:
    await audit_repository.record(
        session,
        actor_type=ActorType.SYSTEM.value,
        actor_id=opened.kiosk_id,
        actor_name=who(opened.place),
        role="kiosk",
        office=opened.place,
        action=action,
        subject_person_id=opened.person_id,
        reason="kiosk",
        detail={
            "session": opened.session_id,
            "since": days.since.isoformat(),
            "until": days.until.isoformat(),
        },
        now=clock.now(),
    )


async def send_to_phone(
    session: AsyncSession, clock: Clock, key: str, token: str, days: DayRange
) -> None:
    """Instead of paper: a notice in the person's app with the statement's link (the phone's own
    download, behind its own sign-in), delivered by the outbox."""
    _check_days(days)
    opened = await touch(session, clock, key, token)
    now = clock.now()
    link = f"/account/statement.pdf?since={days.since.isoformat()}&until={days.until.isoformat()}"
    await notifications.enqueue(
        session,
        channel=Channel.INAPP,
        dedup_key=f"kiosk-statement:{opened.session_id}:{days.since}:{days.until}",
        subject="个人账户结算单",
        body=(
            f"您在{who(opened.place)}申请的个人账户结算单"
            f"（{days.since.isoformat()} 至 {days.until.isoformat()}）可在此下载：{link}"
        ),
        now=now,
        person_id=opened.person_id,
    )
    await session.commit()


async def job_state(
    session: AsyncSession, clock: Clock, key: str, token: str, job_id: int
) -> JobState:
    opened = await touch(session, clock, key, token)
    job = await repository.print_job(session, job_id)
    if job is None or job.session_id != opened.session_id:
        raise UnknownPrintJob("没有找到这次打印")
    return JobState(job.id, job.state, job.message)


async def take_job(
    session: AsyncSession, clock: Clock, key: str, job_id: int
) -> tuple[int, DayRange]:
    """The bridge fetches a queued job of its own kiosk, once: whose statement, which days."""
    kiosk = await repository.authenticated_kiosk(session, key)
    job = await repository.print_job(session, job_id, lock=True)
    if job is None or job.kiosk_id != kiosk.id or job.state != PrintState.QUEUED:
        raise UnknownPrintJob("没有待打印的这份结算单")
    job.state = PrintState.SENT.value
    job.updated_at = clock.now()
    taken = (job.person_id, DayRange(job.since, job.until))
    await session.commit()
    return taken


async def report_job(
    session: AsyncSession, clock: Clock, key: str, job_id: int, *, printed: bool, message: str
) -> None:
    kiosk = await repository.authenticated_kiosk(session, key)
    job = await repository.print_job(session, job_id, lock=True)
    if job is None or job.kiosk_id != kiosk.id:
        raise UnknownPrintJob("没有这份打印任务")
    job.state = (PrintState.PRINTED if printed else PrintState.FAILED).value
    job.message = message[:200] or None
    job.updated_at = clock.now()
    await session.commit()
