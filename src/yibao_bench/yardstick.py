"""The yardstick: pgbench TPC-B on its own database of the same PostgreSQL, in the same run.

`pgbench -M prepared -c <connections> -j <threads>`, with its per-transaction log read back for
the latency percentiles and the CPU of PostgreSQL and pgbench metered from /proc.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yibao_bench.loadgen import tool
from yibao_bench.server import UsageMeter

_TPS = re.compile(r"^tps = ([\d.]+) \(without initial connection time\)", re.MULTILINE)


@dataclass
class PgbenchResult:
    scale: int
    clients: int
    threads: int
    seconds: int
    tps: float
    transactions: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    cores_postgres: float
    cores_loadgen: float
    usage: dict[str, Any]  # the meter's own figures (the machine's neighbours among them)

    def as_dict(self) -> dict[str, Any]:
        found = {k: v for k, v in self.__dict__.items() if k != "usage"}
        return {**self.usage, **found}


def _pg_env(dsn: str) -> tuple[list[str], dict[str, str]]:
    """psql/pgbench connection arguments from a postgresql:// URL."""
    from urllib.parse import urlparse

    parsed = urlparse(dsn)
    args = ["-h", parsed.hostname or "127.0.0.1", "-p", str(parsed.port or 5432)]
    args += ["-U", parsed.username or "postgres"]
    env = {}
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    return args, env


def pgbench_scale(admin_dsn: str, database: str) -> int | None:
    """The scale of an initialised pgbench database, or None."""
    args, env = _pg_env(admin_dsn)
    found = subprocess.run(  # noqa: S603 - our own tools, arguments we built
        [tool("psql"), *args, "-d", database, "-Atc", "SELECT count(*) FROM pgbench_branches"],
        capture_output=True,
        text=True,
        env={**_os_env(), **env},
        check=False,
    )
    if found.returncode != 0:
        return None
    try:
        return int(found.stdout.strip())
    except ValueError:
        return None


def _os_env() -> dict[str, str]:
    import os

    return dict(os.environ)


def pgbench_init(admin_dsn: str, database: str, scale: int) -> None:
    args, env = _pg_env(admin_dsn)
    full_env = {**_os_env(), **env}
    subprocess.run(  # noqa: S603 - our own tools, arguments we built
        [
            tool("psql"),
            *args,
            "-d",
            "postgres",
            "-c",
            f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)',
        ],
        check=True,
        capture_output=True,
        env=full_env,
    )
    subprocess.run(  # noqa: S603 - our own tools, arguments we built
        [tool("psql"), *args, "-d", "postgres", "-c", f'CREATE DATABASE "{database}"'],
        check=True,
        capture_output=True,
        env=full_env,
    )
    subprocess.run(  # noqa: S603 - our own tools, arguments we built
        [tool("pgbench"), *args, "-i", "-q", "-s", str(scale), database],
        check=True,
        capture_output=True,
        env=full_env,
    )


def pgbench_run(
    admin_dsn: str, database: str, *, clients: int, threads: int, seconds: int, scale: int
) -> PgbenchResult:
    args, env = _pg_env(admin_dsn)
    with tempfile.TemporaryDirectory(prefix="yibao-pgbench-") as tmp:
        process = subprocess.Popen(  # noqa: S603 - our own tools, arguments we built
            [
                tool("pgbench"),
                *args,
                "-M",
                "prepared",
                "-c",
                str(clients),
                "-j",
                str(threads),
                "-T",
                str(seconds),
                "-l",
                "--log-prefix",
                f"{tmp}/tx",
                database,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**_os_env(), **env},
        )
        with UsageMeter([], process.pid, database=database) as meter:
            stdout, stderr = process.communicate(timeout=seconds + 600)
        if process.returncode != 0:
            raise RuntimeError(f"pgbench failed: {stderr[-800:]}")
        latencies: list[int] = []
        for log in Path(tmp).glob("tx*"):
            for line in log.read_text().splitlines():
                parts = line.split()
                if len(parts) >= 3:
                    latencies.append(int(parts[2]))
    match = _TPS.search(stdout)
    if match is None:
        raise RuntimeError(f"pgbench printed no tps: {stdout[-800:]}")
    wall = meter.usage.seconds or 1.0
    latencies.sort()
    return PgbenchResult(
        scale=scale,
        clients=clients,
        threads=threads,
        seconds=seconds,
        tps=float(match.group(1)),
        transactions=len(latencies),
        p50_ms=_percentile(latencies, 50) / 1000,
        p99_ms=_percentile(latencies, 99) / 1000,
        mean_ms=round(sum(latencies) / max(len(latencies), 1) / 1000, 3),
        cores_postgres=round(meter.usage.cpu_postgres / wall, 3),
        cores_loadgen=round(meter.usage.cpu_loadgen / wall, 2),
        usage={
            k: v
            for k, v in meter.usage.as_dict().items()
            if k in {"cores_postgres_all", "cores_machine", "cores_others", "load_average"}
        },
    )


def _percentile(sorted_values: list[int], pct: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return float(sorted_values[index])
