"""serve, migrate, worker: the commands scripts/run starts."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from datetime import timedelta

import structlog
import typer
from sqlalchemy.exc import SQLAlchemyError

from yibao.cli.context import console, fail, run
from yibao.config import MissingSecret, get_settings
from yibao.crediting import service as crediting
from yibao.crossregion import service as crossregion
from yibao.db.ephemeral import DatabaseEphemeralStore
from yibao.db.migrate import upgrade
from yibao.kernel.errors import DomainError
from yibao.notifications import service as notifications
from yibao.notifications.senders import (
    DevelopmentSmsSender,
    HttpSmsSender,
    SmsSender,
    UnconfiguredSmsSender,
)
from yibao.partners.service import access as partner_access
from yibao.runtime import Runtime


def migrate() -> None:
    """Bring the database schema up to date (Alembic)."""
    settings = get_settings()
    upgrade(settings.effective_database_url)
    console.print(f"数据库已是最新结构: {settings.effective_database_url.split('@')[-1]}")


def serve(
    host: str = typer.Option(None, help="Address to bind (default YIBAO_HOST or 127.0.0.1)"),
    port: int = typer.Option(None, help="Port (default YIBAO_PORT or 8000)"),
    workers: int = typer.Option(1, help="Server processes"),
    reload: bool = typer.Option(False, help="Reload on code changes (development)"),
    access_log: bool | None = typer.Option(
        None,
        "--access-log/--no-access-log",
        help="A log line per request (default: on, except with YIBAO_ENVIRONMENT=production)",
    ),
) -> None:
    """Serve the web app, the API and the institution interface."""
    import uvicorn

    settings = get_settings()
    try:
        settings.require_secrets()
    except MissingSecret as exc:
        fail(str(exc))
    uvicorn.run(
        "yibao.web.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        reload=reload,
        log_level=settings.log_level,
        proxy_headers=True,
        # Logging is ours (yibao.logs, set up by the CLI): JSON lines, redacted, no locals.
        log_config=None,
        # In production a line per request costs the server more than the line is worth; the
        # benchmark measured the server with it off.
        access_log=access_log if access_log is not None else settings.environment != "production",
    )


def make_sms_sender(runtime: Runtime) -> SmsSender:
    import os

    endpoint = os.environ.get("YIBAO_SMS_ENDPOINT", "")
    if endpoint:
        return HttpSmsSender(endpoint, os.environ.get("YIBAO_SMS_KEY", ""))
    if not runtime.settings.is_development:
        return UnconfiguredSmsSender()
    keep_for = timedelta(seconds=runtime.settings.sms_code_ttl_seconds)
    return DevelopmentSmsSender(runtime.ephemeral, keep_for)


log = structlog.get_logger("yibao.worker")


async def _carry_on_runs(runtime: Runtime, stop: asyncio.Event, idle: float = 5.0) -> None:
    """An approved crediting run (划账, or a year end, approved at the workbench) is carried on
    here, beside the outbox; after a crash the next worker carries it on from its last commit."""
    while not stop.is_set():
        wait = idle
        try:
            async with runtime.sessions() as session, runtime.sessions() as beside:
                found = await crediting.open_run(session)
                if found is not None:
                    await crediting.execute(
                        session, runtime.cipher, runtime.clock, found.id, beside=beside
                    )
                    wait = 0
                year_end = await crediting.open_year_end(session)
                if year_end is not None:
                    await crediting.close_year(session, runtime.clock, year_end.id)
                    wait = 0
        except DomainError as exc:  # a run that cannot go on (its file moved): staff see it
            log.warning("crediting_run_stopped", code=exc.code)
            wait = 60
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=wait or 0.01)


async def _deliver_cash_records(runtime: Runtime) -> int:
    """异地就医 bills settled in cash while their home region was unreachable: the record goes to
    the home deployment after commit, retried with backoff until it is taken."""
    try:
        return await crossregion.deliver_records(runtime)
    except (DomainError, MissingSecret, SQLAlchemyError, OSError) as exc:
        log.warning("crossregion_delivery_failed", error=type(exc).__name__)
        return 0


GRANT_SWEEP_EVERY = 15 * 60.0  # seconds; a grant already stops working the moment it goes idle


async def _sweep_idle_grants(runtime: Runtime, stop: asyncio.Event, every: float) -> None:
    """Open-API grants unused for 180 days are marked ended and their person told (the calls
    were refused from that moment on already: this makes it plain on 已授权的应用)."""
    while True:  # one pass even when told to stop at once (the tests)
        wait = every
        try:
            async with runtime.sessions() as session:
                ended = await partner_access.sweep_idle_grants(session, runtime.clock)
            if ended:
                log.info("partner_grants_ended_idle", grants=ended)
            if ended >= partner_access.SWEEP_BATCH:
                wait = 0  # a full batch: there may be more
        except DomainError as exc:
            log.warning("partner_grant_sweep_stopped", code=exc.code)
        except (SQLAlchemyError, OSError) as exc:  # the database away: the next pass tries again
            log.warning("partner_grant_sweep_failed", error=type(exc).__name__)
        if stop.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=wait or 0.01)


def worker(
    once: bool = typer.Option(False, "--once", help="Deliver what is due now, then stop"),
    interval: float = typer.Option(1.0, help="Seconds between polls when idle"),
) -> None:
    """Deliver the outbox (SMS, in-app notices) after commit, with retries and backoff; offer
    the home regions the records of 异地 bills settled in cash while they were unreachable; carry
    on approved crediting runs; end open-API grants unused for 180 days."""

    async def _loop(runtime: Runtime) -> int:
        sender = make_sms_sender(runtime)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        total = 0
        crediting_task = None if once else asyncio.create_task(_carry_on_runs(runtime, stop))
        sweep_task = (
            None
            if once
            else asyncio.create_task(_sweep_idle_grants(runtime, stop, GRANT_SWEEP_EVERY))
        )
        while not stop.is_set():
            async with runtime.sessions() as session:
                handled = await notifications.deliver_due(
                    session, runtime.clock, runtime.cipher, sender
                )
            total += handled
            handled += await _deliver_cash_records(runtime)
            if isinstance(runtime.ephemeral, DatabaseEphemeralStore):
                await runtime.ephemeral.purge_expired()
            if once:
                break
            if handled == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=interval)
        for task in (crediting_task, sweep_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        return total

    total = run(_loop)
    if once:
        console.print(f"已投递 {total} 条消息")
