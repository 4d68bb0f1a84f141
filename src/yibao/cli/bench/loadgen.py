"""The load generators, each its own process: wrk with Lua scripts, and pgbench.

wrk reads requests prepared beforehand (one file per wrk thread, one request per line), so the
Lua side does no cryptography and every request is valid once: a fresh msgid and nonce each.
Its `done` hook prints one JSON line with wrk's latency distribution and the answers it saw.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yibao.cli.bench.server import UsageMeter

_RESULT = re.compile(r"^BENCH (\{.*\})$", re.MULTILINE)

# Shared by both scripts: thread ids, per-thread counters summed in done(), one JSON line out.
_COMMON = r"""
local threads = {}
local count = 0

function setup(thread)
  count = count + 1
  thread:set("id", count)
  table.insert(threads, thread)
end

local function lines_of(path)
  local list = {}
  for line in io.lines(path) do list[#list + 1] = line end
  return list
end

function done(summary, latency, requests)
  local ok, failed, wrapped = 0, 0, 0
  for _, t in ipairs(threads) do
    ok = ok + t:get("ok")
    failed = failed + t:get("failed")
    wrapped = wrapped + t:get("wrapped")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"bytes":%d,"mean_us":%.1f,"p50_us":%d,'
    .. '"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,"ok":%d,"failed":%d,'
    .. '"wrapped":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,'
    .. '"status_errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, summary.bytes, latency.mean,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, ok, failed, wrapped,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""

SETTLE_LUA = (
    _COMMON
    + r"""
-- One pre-signed 2207 message per line: paasid, timestamp, nonce, signature, JSON body.
function init(args)
  pool = lines_of(args[1] .. "/settle-" .. id .. ".txt")
  at, ok, failed, wrapped = 0, 0, 0, 0
end

function request()
  at = at + 1
  if at > #pool then at = 1; wrapped = wrapped + 1 end
  local paasid, ts, nonce, sig, body =
    pool[at]:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
  return wrk.format("POST", "/fsi/api/rsfComIfsService/callService", {
    ["Content-Type"] = "application/json",
    ["x-tif-paasid"] = paasid,
    ["x-tif-timestamp"] = ts,
    ["x-tif-nonce"] = nonce,
    ["x-tif-signature"] = sig,
  }, body)
end

function response(status, headers, body)
  if status == 200 and body:find('"infcode":%s*0[,}]') then
    ok = ok + 1
  else
    failed = failed + 1
    if failed <= 3 then io.stderr:write(status .. " " .. body:sub(1, 400) .. "\n") end
  end
end
"""
)

QUERY_LUA = (
    _COMMON
    + r"""
-- One bearer token per line; each request is a random person's balance or first page of 消费记录.
function init(args)
  tokens = lines_of(args[1] .. "/tokens-" .. id .. ".txt")
  paths = { "/api/v1/account", "/api/v1/consumption" }
  n, ok, failed, wrapped = 0, 0, 0, 0
  math.randomseed(id * 7919)
end

function request()
  n = n + 1
  local token = tokens[math.random(#tokens)]
  return wrk.format("GET", paths[(n % 2) + 1], { ["Authorization"] = "Bearer " .. token })
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  else
    failed = failed + 1
    if failed <= 3 then io.stderr:write(status .. " " .. body:sub(1, 400) .. "\n") end
  end
end
"""
)


@dataclass
class WrkResult:
    requests: int
    seconds: float
    throughput: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    ok: int
    failed: int
    wrapped: int
    socket_errors: int
    stderr: str

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "stderr"}


def tool(name: str) -> str:
    """The absolute path of an external tool (scripts/bench installs the missing ones)."""
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"缺少工具 {name}：请用 scripts/bench 运行（会从 Debian 安装）")
    return found


def require_tools() -> list[str]:
    """The tools the run needs that are missing (scripts/bench installs them from Debian)."""
    return [tool for tool in ("wrk", "pgbench", "psql") if shutil.which(tool) is None]


def start_wrk(
    url: str, script: str, data_dir: Path, *, connections: int, threads: int, seconds: int
) -> subprocess.Popen[str]:
    script_path = data_dir / "workload.lua"
    script_path.write_text(script)
    return subprocess.Popen(  # noqa: S603 - our own tools, arguments we built
        [
            tool("wrk"),
            f"-c{connections}",
            f"-t{threads}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script_path),
            url,
            "--",
            str(data_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish_wrk(process: subprocess.Popen[str]) -> WrkResult:
    out, err = process.communicate(timeout=900)
    match = _RESULT.search(out)
    if match is None:
        raise RuntimeError(
            f"wrk gave no result (exit {process.returncode}): {out[-500:]} {err[-500:]}"
        )
    raw = json.loads(match.group(1))
    seconds = raw["duration_us"] / 1e6
    return WrkResult(
        requests=raw["requests"],
        seconds=round(seconds, 2),
        throughput=round(raw["requests"] / seconds, 1) if seconds else 0.0,
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        p999_ms=raw["p999_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        ok=raw["ok"],
        failed=raw["failed"],
        wrapped=raw["wrapped"],
        socket_errors=raw["connect_errors"]
        + raw["read_errors"]
        + raw["write_errors"]
        + raw["timeouts"],
        stderr=err[-2000:],
    )


# -- pgbench -----------------------------------------------------------------------------------

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

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


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
        with UsageMeter([], process.pid) as meter:
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
        cores_postgres=round(meter.usage.cpu_postgres / wall, 2),
        cores_loadgen=round(meter.usage.cpu_loadgen / wall, 2),
    )


def _percentile(sorted_values: list[int], pct: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return float(sorted_values[index])
