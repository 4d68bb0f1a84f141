"""One statement written once for both databases (`Sql`), what a direct connection offers
(`Direct`) and its one refusal (`OutsideTransaction`)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

Row = Mapping[str, Any]

_PARAM = re.compile(r"(?<![:\w]):([a-zA-Z_]\w*)")
_FOR_UPDATE = re.compile(r"\s+FOR\s+UPDATE(\s+OF\s+\w+)?", re.IGNORECASE)


class OutsideTransaction(RuntimeError):
    """A statement that must join the use case's transaction found none open."""


class Sql:
    """One statement; `:name` parameters, each used any number of times."""

    __slots__ = ("booleans", "dates", "datetimes", "order", "pg_text", "portable_text", "text")

    def __init__(
        self,
        sql: str,
        *,
        datetimes: Iterable[str] = (),
        booleans: Iterable[str] = (),
        dates: Iterable[str] = (),
    ) -> None:
        self.text = sql
        self.portable_text = _FOR_UPDATE.sub("", sql)
        self.datetimes = frozenset(datetimes)
        self.booleans = frozenset(booleans)
        self.dates = frozenset(dates)
        order: list[str] = []

        def number(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in order:
                order.append(name)
            return f"${order.index(name) + 1}"

        self.pg_text = _PARAM.sub(number, sql)
        self.order = tuple(order)


class Direct(Protocol):
    postgres: bool

    async def fetch(self, sql: Sql, **params: Any) -> Sequence[Row]: ...

    async def fetchrow(self, sql: Sql, **params: Any) -> Row | None: ...

    async def execute(self, sql: Sql, **params: Any) -> None: ...
