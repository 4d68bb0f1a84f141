"""How a CLI command reaches the use cases: one Runtime, one session, business errors as one line."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.config import MissingSecret
from yibao.kernel.errors import DomainError
from yibao.runtime import Runtime, build_runtime

T = TypeVar("T")

console = Console()
err_console = Console(stderr=True)


def fail(message: str) -> NoReturn:
    """A one-line reason and exit code 2: never a traceback for bad input."""
    err_console.print(f"[bold red]错误[/]: {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def run(work: Callable[[Runtime], Awaitable[T]]) -> T:
    async def _main() -> T:
        runtime = build_runtime()
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    try:
        return asyncio.run(_main())
    except DomainError as exc:
        fail(exc.message)
    except MissingSecret as exc:
        fail(str(exc))


def run_in_session(work: Callable[[Runtime, AsyncSession], Awaitable[T]]) -> T:
    async def _work(runtime: Runtime) -> T:
        async with runtime.sessions() as session:
            return await work(runtime, session)

    return run(_work)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
