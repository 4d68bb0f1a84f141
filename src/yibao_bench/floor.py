"""The stack's own floor: pgbench's work served over HTTP by the stack yibao runs on.

The same uvicorn workers, uvloop and httptools, FastAPI and asyncpg, and the same wrk, but no
yibao code: `POST /floor/tpcb` runs the transaction pgbench's TPC-B runs (BEGIN, three updates,
a read, an insert, COMMIT; seven round trips, as `pgbench -M prepared` sends them) on the
yardstick's own database, and `GET /floor/read` one keyed read. What these serve on the machine
of the run is the most any service on this stack could serve while doing at least that much
work per request: the ceiling the settlement ratio and the query rate are read against.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg  # type: ignore[import-untyped]
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from yibao.runtime import settle_the_heap

DSN_VARIABLE = "YIBAO_BENCH_FLOOR_DSN"
POOL_VARIABLE = "YIBAO_BENCH_FLOOR_POOL"

# pgbench's built-in tpcb-like script, statement for statement.
_UPDATE_ACCOUNT = "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2"
_READ_ACCOUNT = "SELECT abalance FROM pgbench_accounts WHERE aid = $1"
_UPDATE_TELLER = "UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2"
_UPDATE_BRANCH = "UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2"
_INSERT_HISTORY = (
    "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime)"
    " VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)"
)


def create_app() -> FastAPI:
    dsn = os.environ[DSN_VARIABLE]
    size = int(os.environ.get(POOL_VARIABLE, "18"))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(dsn, min_size=size, max_size=size)
        settle_the_heap()  # as yibao's production workers do
        try:
            yield
        finally:
            await app.state.pool.close()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.post("/floor/tpcb")
    async def tpcb(request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        aid, bid, tid, delta = (int(body[k]) for k in ("aid", "bid", "tid", "delta"))
        async with request.app.state.pool.acquire() as conn, conn.transaction():
            await conn.execute(_UPDATE_ACCOUNT, delta, aid)
            balance = await conn.fetchval(_READ_ACCOUNT, aid)
            await conn.execute(_UPDATE_TELLER, delta, tid)
            await conn.execute(_UPDATE_BRANCH, delta, bid)
            await conn.execute(_INSERT_HISTORY, tid, bid, aid, delta)
        return JSONResponse({"aid": aid, "abalance": balance})

    @app.get("/floor/read")
    async def read(aid: int, request: Request) -> JSONResponse:
        async with request.app.state.pool.acquire() as conn:
            balance = await conn.fetchval(_READ_ACCOUNT, aid)
        return JSONResponse({"aid": aid, "abalance": balance})

    return app
