"""The load generator, in its own process: wrk with Lua scripts (pgbench is in yardstick.py).

wrk reads requests prepared beforehand (one file per wrk thread, one request per line), so the
Lua side does no cryptography and every request is valid once: a fresh msgid and nonce each.
Its `done` hook prints one JSON line with wrk's latency distribution and the answers it saw.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

-- An answer counted as ok or failed; the first failures are shown on stderr.
local function tally(good, status, body)
  if good then
    ok = ok + 1
  else
    failed = failed + 1
    if failed <= 3 then io.stderr:write(status .. " " .. body:sub(1, 400) .. "\n") end
  end
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

# Counts every 200 as answered (the query and floor passes).
_OK_ON_200 = r"""
function response(status, headers, body)
  tally(status == 200, status, body)
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
  tally(status == 200 and body:find('"infcode":%s*0[,}]') ~= nil, status, body)
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
"""
    + _OK_ON_200
)


PRIME_LUA = (
    _COMMON
    + r"""
-- Each person of the thread's pool once, in order: the overview, then the first page of 消费记录.
-- When its share is answered, the thread leaves a file behind (the runner then stops wrk).
function init(args)
  dir = args[1]
  tokens = lines_of(dir .. "/tokens-" .. id .. ".txt")
  paths = { "/api/v1/account", "/api/v1/consumption" }
  n, ok, failed, wrapped = 0, 0, 0, 0
end

function request()
  n = n + 1
  local person = ((math.floor((n - 1) / 2)) % #tokens) + 1
  if n > 2 * #tokens then wrapped = 1 end
  local path = paths[((n - 1) % 2) + 1]
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. tokens[person] })
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else failed = failed + 1 end
  if ok + failed == 2 * #tokens then
    io.open(dir .. "/primed-" .. id, "w"):close()
    wrk.thread:stop()
  end
end
"""
)


# The stack's floor (floor.py): pgbench's random choices, made by wrk per request at the scale
# of the yardstick's database (`__SCALE__` is replaced by `floor_script`).
_FLOOR_COMMON = r"""
function init(args)
  ok, failed, wrapped = 0, 0, 0
  math.randomseed(id * 104729)
end
"""

_FLOOR_TPCB = r"""
function request()
  local body = string.format('{"aid":%d,"bid":%d,"tid":%d,"delta":%d}',
    math.random(100000 * __SCALE__), math.random(__SCALE__), math.random(10 * __SCALE__),
    math.random(-5000, 5000))
  return wrk.format("POST", "/floor/tpcb", { ["Content-Type"] = "application/json" }, body)
end
"""

_FLOOR_READ = r"""
function request()
  return wrk.format("GET", "/floor/read?aid=" .. math.random(100000 * __SCALE__))
end
"""


def floor_script(kind: str, scale: int) -> str:
    """The wrk script of the floor's `tpcb` or `read` pass at the yardstick's scale."""
    body = {"tpcb": _FLOOR_TPCB, "read": _FLOOR_READ}[kind]
    return (_COMMON + _FLOOR_COMMON + _OK_ON_200 + body).replace("__SCALE__", str(int(scale)))


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


def prime(url: str, data_dir: Path, *, connections: int, threads: int, cap: int) -> WrkResult:
    """Every person of the query pool once (PRIME_LUA), stopping wrk as soon as all threads are
    through (or after `cap` seconds): the first touch of each person, cold."""
    for old in data_dir.glob("primed-*"):
        old.unlink()
    process = start_wrk(
        url, PRIME_LUA, data_dir, connections=connections, threads=threads, seconds=cap
    )
    while process.poll() is None and len(list(data_dir.glob("primed-*"))) < threads:
        time.sleep(0.2)
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # wrk ends its run early, with its summary
    return finish_wrk(process)
