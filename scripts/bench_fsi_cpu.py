"""The server's CPU per institution message, in process: no HTTP server, no load generator.

    export YIBAO_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1/yibao_perf YIBAO_DATA_KEY=...
    .venv/bin/python scripts/bench_settlement.py --seed            # once (the same seed)
    .venv/bin/python scripts/bench_fsi_cpu.py --infno 2207 --messages 600 --concurrency 8

Calls the ASGI app (`yibao.web.app:create_app`) directly with messages signed beforehand, as
scripts/bench_settlement.py signs them, `--concurrency` at a time, and reports the CPU time of
this process (`time.process_time`) per message over the measured messages (a warm-up of
`--warm` first). What a server (uvicorn, granian) adds for HTTP comes on top; on a shared
machine this is the steadiest figure for comparing two versions of the app's own path.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import bench_settlement as bench  # the seed, signing and bills are shared

PATH = "/fsi/api/rsfComIfsService/callService"


async def call(app: Any, path: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json")]
        + [(k.encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    answer: dict[str, Any] = json.loads(b"".join(chunks))
    return answer


async def measure(
    infno: str, messages: int, warm: int, concurrency: int, profile_to: str | None = None
) -> dict[str, Any]:
    from yibao.runtime import build_runtime
    from yibao.web.app import create_app

    state = json.loads(bench.STATE.read_text())
    runtime = build_runtime()
    app = create_app(runtime=runtime)
    kind = "H" if infno == "2207" else "P"
    insts = [i for i in state["institutions"] if i["code"].startswith(kind)]
    for inst in insts:
        env = {
            "infno": "9001",
            "msgid": bench.msgid(inst["code"], 9999),
            "fixmedins_code": inst["code"],
            "input": {},
        }
        out = await call(
            app,
            "/fsi/api/9001",
            bench.headers(inst["code"], inst["token"]),
            json.dumps(env).encode(),
        )
        inst["sign_no"] = out["output"]["signinoutb"]["sign_no"]
    total = messages + warm
    people = state["people"]
    mdtrt_ids: list[str | None] = [None] * total
    if infno == "2207":
        mdtrt_ids = list(await bench.open_visits(people, insts, total))
    pool = []
    for n in range(total):
        line = bench.message(
            infno, insts[n % len(insts)], people[n % len(people)], n, mdtrt_ids[n], n // len(insts)
        )
        paasid, ts, nonce, signature, body = line.split("\t", 4)
        headers = {
            "x-tif-paasid": paasid,
            "x-tif-timestamp": ts,
            "x-tif-nonce": nonce,
            "x-tif-signature": signature,
        }
        pool.append((headers, body.encode()))
    failed: list[str] = []

    async def drive(part: list[tuple[dict[str, str], bytes]]) -> None:
        queue = list(part)

        async def one() -> None:
            while queue:
                headers, body = queue.pop()
                out = await call(app, PATH, headers, body)
                if out.get("infcode") != 0:
                    failed.append(str(out.get("err_msg"))[:200])

        await asyncio.gather(*(one() for _ in range(concurrency)))

    await drive(pool[:warm])
    profile = None
    if profile_to:
        import cProfile

        profile = cProfile.Profile(time.process_time)  # CPU time: a preempted worker is not busy
        profile.enable()
    cpu, wall = time.process_time(), time.perf_counter()
    await drive(pool[warm:])
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if profile is not None:
        profile.disable()
        profile.dump_stats(profile_to)
    await runtime.close()
    return {
        "infno": infno,
        "messages": messages,
        "concurrency": concurrency,
        "cpu_ms_per_message": round(cpu * 1000 / messages, 3),
        "wall_s": round(wall, 2),
        "failed": len(failed),
        "first_failures": failed[:3],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--infno", choices=["2207", "2102"], default="2207")
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--warm", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--profile", help="write cProfile stats (CPU time) of the measured part here"
    )
    args = parser.parse_args()
    try:
        import uvloop  # as the servers run: uvloop when installed
    except ImportError:
        pass
    else:
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    result = asyncio.run(
        measure(args.infno, args.messages, args.warm, args.concurrency, args.profile)
    )
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
