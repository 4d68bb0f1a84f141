"""The WAL one database wrote during a pass, read back from the WAL itself.

`pg_stat_wal` counts the whole server's WAL: on a PostgreSQL shared with other work (other
databases loading, testing, crediting) its delta over a pass is the workload's WAL plus theirs.
So each measured pass also holds a temporary physical replication slot (the pass's WAL segments
cannot be recycled before they are read; the slot goes with its session), and afterwards
`pg_waldump` reads the records between the pass's two LSNs. A record is the database's when one
of its block references names the database's OID, or when it is the commit or abort of a
transaction that wrote such a record; records of no database (checkpoints, running-transaction
snapshots) are not counted. Bytes, records and full-page images are counted as `pg_stat_wal`
counts them (each record's total length, each block image), so the two agree on an idle server.

Where pg_waldump or the WAL directory cannot be reached (PostgreSQL on another machine), the
pass keeps only the server-wide figures and says so.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]

_RECORD = re.compile(
    r"^rmgr: (?P<rmgr>\S+)\s+len \(rec/tot\):\s*\d+/\s*(?P<tot>\d+), tx:\s*(?P<tx>\d+),"
    r" lsn: [0-9A-F/]+, prev [0-9A-F/]+, desc: (?P<desc>.*)$"
)
SLOT_MIN_FREE = 3 * 2**30  # bytes free on the WAL's disk below which no slot is held
_BLOCK = re.compile(r"blkref #\d+: rel \d+/(?P<db>\d+)/\d+(?: fork \w+)? blk \d+(?P<fpw> FPW)?")


@dataclass
class WalCount:
    records: int = 0
    bytes: int = 0
    fpi: int = 0
    by_rmgr: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "db_wal_records": self.records,
            "db_wal_bytes": self.bytes,
            "db_wal_fpi": self.fpi,
            "db_wal_by_rmgr": dict(sorted(self.by_rmgr.items(), key=lambda kv: -kv[1])),
        }


def count_database(lines: Iterable[str], database_oid: int) -> WalCount:
    """The records of `pg_waldump`'s output that belong to one database (module docstring)."""
    wanted = str(database_oid)
    ours: set[str] = set()
    found = WalCount()
    for line in lines:
        match = _RECORD.match(line)
        if match is None:
            continue
        tx = match["tx"]
        desc = match["desc"]
        blocks = list(_BLOCK.finditer(desc))
        mine = any(b["db"] == wanted for b in blocks)
        if mine:
            if tx != "0":
                ours.add(tx)
        elif not (tx in ours and match["rmgr"] == "Transaction"):
            continue
        found.records += 1
        found.bytes += int(match["tot"])
        found.fpi += sum(1 for b in blocks if b["fpw"])
        found.by_rmgr[match["rmgr"]] = found.by_rmgr.get(match["rmgr"], 0) + 1
    return found


def _waldump() -> str | None:
    found = shutil.which("pg_waldump")
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_waldump"), reverse=True)
    return str(candidates[0]) if candidates else None


class WalMeter:
    """Hold the pass's WAL (a temporary slot) and count the database's records at the end.

    `with WalMeter(dsn) as meter: …` then `meter.result` (an error entry when it could not
    count). The slot's session lives on an event loop of the meter's own across the pass."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.result: dict[str, Any] = {}
        self._conn: asyncpg.Connection | None = None
        self._start = ""
        self._oid = 0
        self._wal_dir: Path | None = None
        self._runner = asyncio.Runner()

    def __enter__(self) -> WalMeter:
        self._runner.run(self._begin())
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._runner.run(self._end())
        finally:
            self._runner.close()

    async def _begin(self) -> None:
        tool = _waldump()
        if tool is None:
            self.result = {"db_wal_error": "pg_waldump not found"}
            return
        try:
            conn = await asyncpg.connect(self.dsn)
            self._oid = int(
                await conn.fetchval(
                    "SELECT oid FROM pg_database WHERE datname = current_database()"
                )
            )
            self._wal_dir = Path(str(await conn.fetchval("SHOW data_directory"))) / "pg_wal"
            if not self._wal_dir.is_dir():
                await conn.close()
                self.result = {"db_wal_error": f"{self._wal_dir} is not readable here"}
                return
            # The slot keeps the pass's WAL on disk until it is read; on a nearly full disk the
            # pass goes without (a checkpoint rarely recycles a segment that young anyway).
            if shutil.disk_usage(self._wal_dir).free > SLOT_MIN_FREE:
                slot = f"yibao_bench_{secrets.token_hex(4)}"
                await conn.fetchrow(
                    "SELECT * FROM pg_create_physical_replication_slot($1, true, true)", slot
                )
            self._start = str(await conn.fetchval("SELECT pg_current_wal_insert_lsn()::text"))
            self._conn = conn
        except (OSError, asyncpg.PostgresError) as exc:
            self.result = {"db_wal_error": str(exc)[:300]}

    async def _end(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            # pg_waldump reads files: wait (the WAL writer's 200 ms at most, as a rule) until
            # everything inserted up to the pass's end is flushed to them.
            end = str(await conn.fetchval("SELECT pg_current_wal_insert_lsn()::text"))
            for _ in range(50):
                if await conn.fetchval(
                    "SELECT pg_current_wal_flush_lsn() >= $1::text::pg_lsn", end
                ):
                    break
                await asyncio.sleep(0.1)
            self.result = self._count(end)
        except (OSError, asyncpg.PostgresError, subprocess.SubprocessError) as exc:
            self.result = {"db_wal_error": str(exc)[:300]}
        finally:
            await conn.close()  # the temporary slot goes with the session

    def _count(self, end: str) -> dict[str, Any]:
        tool = _waldump()
        assert tool is not None and self._wal_dir is not None
        process = subprocess.Popen(  # noqa: S603 - our own tool, arguments we built
            [tool, "-p", str(self._wal_dir), "-s", self._start, "-e", end],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        found = count_database(process.stdout, self._oid)
        _, err = process.communicate(timeout=600)
        # pg_waldump ends with an error when it reaches the end of the written WAL before `-e`;
        # what it read up to there is counted all the same.
        out = found.as_dict()
        if process.returncode != 0 and "error" in err and not found.records:
            return {"db_wal_error": err.strip()[-300:]}
        return out
