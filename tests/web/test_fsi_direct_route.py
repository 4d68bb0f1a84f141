"""The institution interface's two routes are served as plain ASGI (fsi/router.py, DirectRoute),
ahead of FastAPI's routing: the same answers and headers, and what they do not take falls
through to FastAPI as before."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi.routing import APIRoute

from yibao.runtime import Runtime
from yibao.web.app import create_app


def _without_fastapis_fsi_routes(runtime: Runtime) -> httpx.AsyncClient:
    app = create_app(runtime=runtime)
    app.router.routes[:] = [
        r
        for r in app.router.routes
        if not (isinstance(r, APIRoute) and r.path.startswith("/fsi/api/"))
    ]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.mark.parametrize("path", ["/fsi/api/rsfComIfsService/callService", "/fsi/api/2207"])
async def test_both_paths_are_answered_without_fastapis_routes(runtime: Runtime, path: str) -> None:
    async with _without_fastapis_fsi_routes(runtime) as web:
        answer = await web.post(path, content=b"{not json")
    assert answer.status_code == 200
    body = answer.json()
    assert body["infcode"] == -1 and body["err_msg"]
    assert answer.headers["content-type"] == "application/json"
    assert int(answer.headers["content-length"]) == len(answer.content)
    # the security headers every response carries (web/headers.py)
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


async def test_the_path_and_the_envelope_must_name_the_same_transaction(
    runtime: Runtime,
) -> None:
    envelope = {
        "infno": "1101",
        "msgid": "H44030500001202601011200000001",
        "fixmedins_code": "H44030500001",
        "input": {},
    }
    async with _without_fastapis_fsi_routes(runtime) as web:
        answer = await web.post("/fsi/api/2207", content=json.dumps(envelope).encode())
    assert answer.json()["infcode"] == -1
    assert "2207" in answer.json()["err_msg"] and "1101" in answer.json()["err_msg"]


async def test_what_it_does_not_take_falls_through_to_fastapi(client: httpx.AsyncClient) -> None:
    assert (await client.get("/fsi/api/2207")).status_code == 405
    assert (await client.post("/fsi/api/2207/more", content=b"{}")).status_code == 404
    assert (await client.post("/fsi/api/", content=b"{}")).status_code in {404, 405}
