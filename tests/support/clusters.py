"""Two PostgreSQL 15 clusters of the tests' own (Debian's pg_createcluster), one per deployment,
so that a test can kill a whole PostgreSQL — `pg_ctlcluster 15 NAME stop -m immediate`, the
postmaster and every backend gone at once as after kill -9, no checkpoint — without touching the
server other tests share.

The clusters are made like scripts/run-two makes its own (trust on 127.0.0.1, for tests only),
under other names and ports, created when missing and left created; each test run starts them and
stops them when done. A lock file keeps two runs on one machine from using them at once (one would
kill the other's PostgreSQL). Where pg_createcluster is missing the tests skip with the reason;
under CI=true they fail instead.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest

PGV = "15"
# Names and ports of the test clusters; scripts/run-two's are regiona/regionb on 5434/5433.
WANTED = (("yibaotesta", 5435), ("yibaotestb", 5436))
LOCK = Path("/tmp/yibao-test-clusters.lock")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _run(*command: str, timeout: float = 120) -> str:
    done = subprocess.run(  # noqa: S603 - Debian's postgresql-common tools, our arguments
        command, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def _clusters() -> dict[str, tuple[int, str]]:
    """The version's clusters: name → (port, status)."""
    found = {}
    for line in _run("pg_lsclusters", "-h").splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[0] == PGV:
            found[fields[1]] = (int(fields[2]), fields[3])
    return found


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


async def _accepts(port: int) -> bool:
    try:
        conn = await asyncpg.connect(
            host="127.0.0.1", port=port, user="postgres", database="postgres", timeout=2
        )
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


@dataclass(frozen=True)
class Cluster:
    name: str
    port: int

    @property
    def admin_url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self, timeout: float = 60) -> None:
        """Start the cluster (after a crash: it recovers from its WAL first) and wait until it
        accepts connections."""
        if _clusters().get(self.name, (0, ""))[1] != "online":
            _run("pg_ctlcluster", PGV, self.name, "start", timeout=timeout)
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not asyncio.run(_accepts(self.port)):
            if time.monotonic() > deadline:
                raise RuntimeError(f"cluster {PGV}/{self.name} on :{self.port} does not answer")
            time.sleep(0.2)

    def crash(self) -> None:
        """An immediate shutdown: every process of the cluster ends without a checkpoint, open
        transactions are lost and the next start recovers from the WAL (as after kill -9)."""
        _run("pg_ctlcluster", PGV, self.name, "stop", "-m", "immediate", timeout=60)

    def stop(self) -> None:
        if _clusters().get(self.name, (0, ""))[1] == "online":
            _run("pg_ctlcluster", PGV, self.name, "stop", "-m", "fast", timeout=120)


def _ensure(name: str, port: int) -> Cluster:
    known = _clusters()
    if name not in known:
        chosen = ["--port", str(port)] if _port_free(port) else []  # else the next free one
        _run(
            "pg_createcluster",
            PGV,
            name,
            *chosen,
            "--",
            "--auth-local=trust",
            "--auth-host=trust",
        )
        known = _clusters()
    return Cluster(name, known[name][0])


@contextmanager
def two_clusters() -> Iterator[tuple[Cluster, Cluster]]:
    """Clusters A and B, running (created when missing), stopped afterwards."""
    if shutil.which("pg_createcluster") is None or os.geteuid() != 0:
        reason = (
            "two PostgreSQL clusters need Debian's pg_createcluster (postgresql-common), as root"
        )
        if IN_CI:
            pytest.fail(f"{reason} under CI=true")
        pytest.skip(reason)
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run's crash test would kill ours
        made: list[Cluster] = []
        try:
            for name, port in WANTED:
                made.append(_ensure(name, port))
                made[-1].start()
            yield made[0], made[1]
        finally:
            for cluster in made:
                cluster.stop()
