"""The real server under test, and what it costs while it works.

uvicorn is started as the user would start it in production (YIBAO_ENVIRONMENT=production, one
worker process per core, uvloop and httptools, no access log), against the bench database. While
a workload runs we sample each worker's resident memory and, at both ends, the CPU time of the
server workers, of PostgreSQL and of the load generator, read from /proc.
"""

from __future__ import annotations

import collections
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from yibao_bench.target import ROOT

_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _rss_mb(pid: int) -> float:
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except OSError:
        return 0.0
    return pages * _PAGE / 1_048_576


def _named(name: str, database: str | None = None) -> list[int]:
    """Processes called `name`; with `database`, only PostgreSQL backends serving it (a backend's
    process title names its database: `postgres: 15/main: <user> <database> <client> <state>`)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() != name:
                    continue
                if database is not None:
                    title = (entry / "cmdline").read_bytes().decode(errors="replace").split()
                    if len(title) < 4 or title[3] != database:
                        continue
            except OSError:
                continue
            found.append(int(entry.name))
    return found


def machine_busy_seconds() -> float:
    """CPU seconds every core of the machine has spent busy since boot (/proc/stat), whoever
    spent them: with the run's own processes subtracted, what the neighbours took."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(v) for v in fields[:8]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks) - idle) / _TICK


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    workers: list[int]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


APP = "yibao.web.app:create_app"


def uvicorn_command(port: int, *, workers: int, app: str = APP) -> list[str]:
    """uvicorn as production runs it (uvloop, httptools, no access log) on 127.0.0.1:`port`; the
    bench, the crash test and the browser tests all start the server this way."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]


@contextmanager
def running_server(env: dict[str, str], workers: int, app: str = APP) -> Iterator[Server]:
    port = free_port()
    command = uvicorn_command(port, workers=workers, app=app)
    # The server's stderr goes to a file: a pipe nobody reads during the run fills up and then
    # blocks the server's writes to it.
    errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        command, cwd=ROOT, env=env, stderr=errors
    )

    def stderr_tail() -> str:
        errors.seek(0)
        return errors.read().decode(errors="replace")[-1500:]

    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server stopped at start: {stderr_tail()}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not answer /healthz within 90 s")
            time.sleep(0.3)
        # uvicorn's supervisor spawns the workers (and multiprocessing's resource tracker); with
        # one worker it serves in its own process.
        pids = [
            p
            for p in _children(process.pid)
            if "resource_tracker"
            not in Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace")
        ] or [process.pid]
        yield Server(process, port, pids)
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped during the run: {stderr_tail()}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        errors.close()


@dataclass
class Usage:
    """Memory of each worker (peak, sampled) and CPU used by each side during a workload."""

    seconds: float = 0.0
    worker_rss_peak_mb: dict[int, float] = field(default_factory=dict)
    cpu_server: float = 0.0
    cpu_postgres: float = 0.0  # the backends of the measured database (all of them without one)
    cpu_postgres_all: float = 0.0  # every PostgreSQL process, other databases' too
    cpu_loadgen: float = 0.0
    cpu_machine: float = 0.0  # every process of the machine
    load_average: tuple[float, float] = (0.0, 0.0)  # 1-minute load average at the start, end

    def as_dict(self) -> dict[str, object]:
        wall = self.seconds or 1.0
        ours = self.cpu_server + self.cpu_postgres + self.cpu_loadgen
        return {
            "seconds": round(self.seconds, 1),
            "worker_rss_peak_mb": [round(v, 1) for v in self.worker_rss_peak_mb.values()],
            "cores_server": round(self.cpu_server / wall, 2),
            "cores_postgres": round(self.cpu_postgres / wall, 3),
            "cores_postgres_all": round(self.cpu_postgres_all / wall, 3),
            "cores_loadgen": round(self.cpu_loadgen / wall, 2),
            "cores_machine": round(self.cpu_machine / wall, 2),
            "cores_others": round(max(0.0, self.cpu_machine - ours) / wall, 2),
            "load_average": list(self.load_average),
        }


class UsageMeter:
    """Samples every 0.5 s, so processes that end during the workload (pgbench's backends) still
    count with what they used until their last sample."""

    def __init__(
        self, workers: list[int], loadgen_pid: int | None = None, database: str | None = None
    ) -> None:
        self.workers = workers
        self.loadgen_pid = loadgen_pid
        # PostgreSQL's CPU is counted for the backends of this database: the server is shared
        # with other databases whose work is not the workload's.
        self.database = database
        self.usage = Usage()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._started = 0.0
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._mine: set[int] = set()
        self._server_before = 0.0
        self._loadgen_cpu = 0.0
        self._machine_before = 0.0
        self._load_before = 0.0

    def _sample_postgres(self, *, at_start: bool = False) -> None:
        if self.database is not None:
            self._mine.update(_named("postgres", self.database))
        for pid in _named("postgres"):
            cpu = cpu_seconds(pid)
            if pid not in self._first:
                # A backend that appears during the workload counts from zero.
                self._first[pid] = cpu if at_start else 0.0
            self._last[pid] = max(cpu, self._last.get(pid, 0.0))

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            for pid in self.workers:
                rss = _rss_mb(pid)
                self.usage.worker_rss_peak_mb[pid] = max(
                    rss, self.usage.worker_rss_peak_mb.get(pid, 0.0)
                )
            if self.loadgen_pid:
                self._loadgen_cpu = max(self._loadgen_cpu, cpu_seconds(self.loadgen_pid))
            self._sample_postgres()

    def __enter__(self) -> UsageMeter:
        self._server_before = sum(cpu_seconds(p) for p in self.workers)
        self._sample_postgres(at_start=True)
        self._machine_before = machine_busy_seconds()
        self._load_before = load_average()
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample_postgres()
        self.usage.seconds = time.monotonic() - self._started
        self.usage.cpu_machine = machine_busy_seconds() - self._machine_before
        self.usage.load_average = (self._load_before, load_average())
        self.usage.cpu_server = sum(cpu_seconds(p) for p in self.workers) - self._server_before
        used = {p: self._last[p] - self._first[p] for p in self._last}
        self.usage.cpu_postgres_all = sum(used.values())
        self.usage.cpu_postgres = (
            sum(used.get(p, 0.0) for p in self._mine)
            if self.database is not None
            else self.usage.cpu_postgres_all
        )
        self.usage.cpu_loadgen = self._loadgen_cpu


# -- profiles ----------------------------------------------------------------------------------


def busiest(workers: list[int], *, over: float) -> int:
    """The worker that used the most CPU in the next `over` seconds: uvicorn's listening socket
    is shared, and one worker can take most of a workload's connections."""
    started = {pid: cpu_seconds(pid) for pid in workers}
    time.sleep(over)
    return max(workers, key=lambda pid: cpu_seconds(pid) - started[pid])


def py_spy() -> str | None:
    candidate = Path(sys.executable).parent / "py-spy"
    return str(candidate) if candidate.exists() else None


def start_profile(pid: int, seconds: int, output: Path) -> subprocess.Popen[bytes] | None:
    tool = py_spy()
    if tool is None:
        return None
    return subprocess.Popen(  # noqa: S603 - our own tools, arguments we built
        [
            tool,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--rate",
            "200",
            "--format",
            "raw",
            "--output",
            str(output),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


# Where a sample's time goes, by the first frame (from the leaf) that belongs to one of these.
_AREAS = [
    ("asyncpg", "asyncpg (driver, protocol)"),
    ("sqlalchemy/orm", "SQLAlchemy ORM (unit of work, loading)"),
    ("sqlalchemy", "SQLAlchemy Core (compile, execute, pool)"),
    ("pydantic", "pydantic (validation, serialisation)"),
    ("fastapi", "FastAPI (routing, dependencies, encoding)"),
    ("starlette", "Starlette (middleware, responses)"),
    ("uvicorn", "uvicorn (HTTP)"),
    ("httptools", "uvicorn (HTTP)"),
    ("cryptography", "cryptography (AES-GCM, HMAC)"),
    ("hashlib", "hashing"),
    ("hmac", "hashing"),
    ("json", "json"),
    ("yibao/", "yibao code"),
    ("asyncio", "asyncio event loop"),
    ("uvloop", "asyncio event loop"),
]


def summarise_profile(raw: Path, top: int = 12) -> dict[str, object]:
    """Share of samples per area (by leaf frame) and the heaviest yibao/library functions."""
    if not raw.exists():
        return {}
    areas: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    ours: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        leaf = frames[-1] if frames else "?"
        leaves[_frame_name(leaf)] += count
        area = "other (interpreter, stdlib)"
        for frame in reversed(frames):
            hit = next((name for key, name in _AREAS if key in frame), None)
            if hit:
                area = hit
                break
        areas[area] += count
        seen: set[str] = set()
        for frame in frames:
            if "yibao/" in frame:
                name = _frame_name(frame)
                if name not in seen:
                    ours[name] += count
                    seen.add(name)
    if not total:
        return {}
    return {
        "samples": total,
        "areas": [(a, round(100 * c / total, 1)) for a, c in areas.most_common()],
        "leaf_functions": [(f, round(100 * c / total, 1)) for f, c in leaves.most_common(top)],
        "yibao_inclusive": [(f, round(100 * c / total, 1)) for f, c in ours.most_common(top)],
    }


def _frame_name(frame: str) -> str:
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    path = where.split(":")[0]
    for marker in ("site-packages/", "src/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})"
