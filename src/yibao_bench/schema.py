"""Take the bulk tables' keys, indexes and foreign keys off for the load and put them back after.

PostgreSQL stores rows far faster without maintaining a dozen B-trees and checking a foreign key
per row; building each index once, sorted, afterwards costs a fraction of that. The definitions
are read from the catalogue (pg_get_constraintdef / pg_get_indexdef), so what comes back is
exactly what the migrations made.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import asyncpg  # type: ignore[import-untyped]

BULK_TABLES = (
    "persons",
    "enrolments",
    "personal_accounts",
    "contributions",
    "ledger_entries",
    "settlements",
    "settlement_items",
    "yearly_accumulations",
)


@dataclass
class Stripped:
    # A primary or unique key comes back in two statements: its index, built as any other
    # (CREATE INDEX takes a SHARE lock, so two builds on one table run side by side, where two
    # ALTER TABLE … ADD CONSTRAINT would take turns on its ACCESS EXCLUSIVE lock), and then the
    # constraint attached to that index (USING INDEX: no second build, a moment's lock).
    key_indexes: list[tuple[str, str]] = field(default_factory=list)  # (table, statement)
    keys: list[tuple[str, str]] = field(default_factory=list)
    indexes: list[tuple[str, str]] = field(default_factory=list)
    foreign_keys: list[tuple[str, str, str]] = field(default_factory=list)  # table, name, def


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def strip(conn: asyncpg.Connection) -> Stripped:
    tables = list(BULK_TABLES)
    found = Stripped()
    fks = await conn.fetch(
        """
        SELECT c.conrelid::regclass::text AS tbl, c.conname, pg_get_constraintdef(c.oid) AS def
        FROM pg_constraint c
        WHERE c.contype = 'f'
          AND (c.conrelid::regclass::text = ANY($1::text[])
               OR c.confrelid::regclass::text = ANY($1::text[]))
        ORDER BY 1, 2
        """,
        tables,
    )
    keys = await conn.fetch(
        """
        SELECT c.conrelid::regclass::text AS tbl, c.conname, c.contype::text AS contype,
               pg_get_indexdef(c.conindid) AS index_def
        FROM pg_constraint c
        WHERE c.contype IN ('p', 'u') AND c.conrelid::regclass::text = ANY($1::text[])
        ORDER BY c.contype, 1, 2
        """,
        tables,
    )
    indexes = await conn.fetch(
        """
        SELECT i.indrelid::regclass::text AS tbl, i.indexrelid::regclass::text AS name,
               pg_get_indexdef(i.indexrelid) AS def
        FROM pg_index i
        WHERE i.indrelid::regclass::text = ANY($1::text[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY 1, 2
        """,
        tables,
    )
    for row in fks:
        found.foreign_keys.append((row["tbl"], row["conname"], row["def"]))
        await conn.execute(
            f"ALTER TABLE {_quote(row['tbl'])} DROP CONSTRAINT {_quote(row['conname'])}"
        )
    for row in indexes:
        found.indexes.append((row["tbl"], row["def"]))
        await conn.execute(f"DROP INDEX {_quote(row['name'])}")
    for row in keys:
        kind = "PRIMARY KEY" if row["contype"] == "p" else "UNIQUE"
        found.key_indexes.append((row["tbl"], row["index_def"]))
        found.keys.append(
            (
                row["tbl"],
                f"ALTER TABLE {_quote(row['tbl'])} ADD CONSTRAINT {_quote(row['conname'])}"
                f" {kind} USING INDEX {_quote(row['conname'])}",
            )
        )
        await conn.execute(
            f"ALTER TABLE {_quote(row['tbl'])} DROP CONSTRAINT {_quote(row['conname'])}"
        )
    return found


async def run_parallel(
    dsn: str,
    statements: list[tuple[str, str]],
    jobs: int,
    sizes: dict[str, int],
    done: Callable[[str, float], None] | None = None,
) -> None:
    """Run statements over `jobs` connections, the biggest tables first so the ends meet."""
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for item in sorted(statements, key=lambda s: -sizes.get(s[0], 0)):
        queue.put_nowait(item)

    async def worker() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(
                "SET maintenance_work_mem = '1GB'; SET max_parallel_maintenance_workers = 0;"
                " SET synchronous_commit = off"
            )
            while True:
                try:
                    _, statement = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                await conn.execute(statement)
                if done:
                    done(statement, time.perf_counter() - started)
        finally:
            await conn.close()

    await asyncio.gather(*(worker() for _ in range(max(1, jobs))))


def restore_statements(
    stripped: Stripped, *, validate: bool
) -> list[tuple[str, list[tuple[str, str]]]]:
    """(timing name, statements) in order: every index, the keys attached to theirs, the
    foreign keys (which need the keys), then their checks."""
    add_fks = [
        (t, f"ALTER TABLE {_quote(t)} ADD CONSTRAINT {_quote(n)} {d} NOT VALID")
        for t, n, d in stripped.foreign_keys
    ]
    phases = [
        ("keys_and_indexes", stripped.key_indexes + stripped.indexes),
        ("keys_and_indexes", stripped.keys),
        ("foreign_keys", add_fks),
    ]
    if validate:
        phases.append(
            (
                "validate",
                [
                    (t, f"ALTER TABLE {_quote(t)} VALIDATE CONSTRAINT {_quote(n)}")
                    for t, n, _ in stripped.foreign_keys
                ],
            )
        )
    return phases


async def move_sequences(conn: asyncpg.Connection) -> None:
    rows = await conn.fetch(
        "SELECT c.relname, pg_get_serial_sequence(c.relname, a.attname) AS seq"
        " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
        " WHERE c.relname = ANY($1::text[]) AND a.attname = 'id' AND NOT a.attisdropped",
        list(BULK_TABLES),
    )
    for table, sequence in ((r["relname"], r["seq"]) for r in rows):
        if sequence is None:
            continue
        await conn.execute(
            "SELECT setval($1, GREATEST(COALESCE((SELECT max(id) FROM "  # noqa: S608 - our table names
            + _quote(table)
            + "), 0), 1))",
            sequence,
        )
