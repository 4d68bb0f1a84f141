"""A demo partner app: the whole open-API flow against a running yibao, to read as a recipe.

1. Start yibao (`scripts/run`, or `yibao serve`) and register this app (an operator acts alone
   at the command line; staff would use /staff/partners, where a second administrator approves):

       yibao partners add --name 演示应用 --company 演示科技有限公司 \
           --redirect-uri http://127.0.0.1:8765/callback

2. Run this app with the client id and secret that command printed:

       python examples/demo_partner.py --yibao http://localhost:8000 \
           --client-id yb_… --client-secret … --port 8765

3. Open http://127.0.0.1:8765/ and press 用医保账户登录.

What it does, step by step (each step is one function below):
- `start`: make a PKCE pair and a `state`, keep them, send the browser to /oauth/authorize;
- `callback`: check `state`, exchange the code (with the verifier) at /oauth/token;
- `home`: call /open/v1 with the access token, refreshing it first when it is about to expire;
  a 403 means the person did not grant that scope, a 401 that they took the permission back;
- `sign_out`: revoke the refresh token at /oauth/revoke (which ends its access token too).

Sessions live in this process's memory: a real partner keeps them in its own session store,
and keeps the client secret on its server, never in a mobile app.
"""

from __future__ import annotations

import argparse
import html
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

SCOPE = "balance records family"
COOKIE = "demo_partner"


@dataclass
class Settings:
    yibao: str
    client_id: str
    client_secret: str
    redirect_uri: str


@dataclass
class Visit:
    """One browser's sign-in with yibao, kept server-side."""

    state: str = ""
    verifier: str = ""
    access_token: str = ""
    refresh_token: str = ""
    expires_at: float = 0.0
    scope: str = ""
    error: str = ""
    reads: dict[str, Any] = field(default_factory=dict)


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(title="demo partner", docs_url=None, openapi_url=None)
    visits: dict[str, Visit] = {}

    def visit_of(request: Request) -> tuple[str, Visit]:
        key = request.cookies.get(COOKIE) or secrets.token_urlsafe(16)
        return key, visits.setdefault(key, Visit())

    def client() -> httpx.AsyncClient:
        # client_secret_basic (RFC 6749 §2.3.1); yibao's ids and secrets are URL-safe already.
        return httpx.AsyncClient(
            base_url=settings.yibao,
            auth=(settings.client_id, settings.client_secret),
            timeout=10,
        )

    @app.get("/login")
    async def start(request: Request) -> Response:
        key, visit = visit_of(request)
        visit.state = generate_token(24)
        visit.verifier = generate_token(64)  # 43–128 characters of [A-Za-z0-9]
        query = urlencode(
            {
                "response_type": "code",
                "client_id": settings.client_id,
                "redirect_uri": settings.redirect_uri,
                "scope": SCOPE,
                "state": visit.state,
                "code_challenge": create_s256_code_challenge(visit.verifier),
                "code_challenge_method": "S256",
            }
        )
        response = RedirectResponse(f"{settings.yibao}/oauth/authorize?{query}", 303)
        response.set_cookie(COOKIE, key, httponly=True, samesite="lax")
        return response

    @app.get("/callback")
    async def callback(
        request: Request, code: str = "", state: str = "", error: str = ""
    ) -> Response:
        _, visit = visit_of(request)
        if not visit.state or not secrets.compare_digest(state, visit.state):
            visit.error = "state 不符：这不是本应用发起的授权"
        elif error:
            visit.error = f"用户未授权（{error}）"
        else:
            async with client() as yibao:
                answer = await yibao.post(
                    "/oauth/token",
                    data={
                        "grant_type": "authorization_code",
                        "code": code,
                        "redirect_uri": settings.redirect_uri,
                        "code_verifier": visit.verifier,
                    },
                )
            if answer.status_code == 200:
                keep(visit, answer.json())
            else:
                visit.error = f"换取令牌失败：{answer.json().get('error')}"
        visit.state = visit.verifier = ""
        return RedirectResponse("/", 303)

    def keep(visit: Visit, tokens: dict[str, Any]) -> None:
        visit.access_token = tokens["access_token"]
        visit.refresh_token = tokens["refresh_token"]
        visit.expires_at = time.monotonic() + int(tokens["expires_in"])
        visit.scope = tokens["scope"]
        visit.error = ""

    async def fresh_token(visit: Visit) -> str:
        """Refresh a minute before expiry; each refresh token works once and comes back new."""
        if visit.refresh_token and time.monotonic() > visit.expires_at - 60:
            async with client() as yibao:
                answer = await yibao.post(
                    "/oauth/token",
                    data={"grant_type": "refresh_token", "refresh_token": visit.refresh_token},
                )
            if answer.status_code == 200:
                keep(visit, answer.json())
        return visit.access_token

    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request) -> HTMLResponse:
        _, visit = visit_of(request)
        rows = []
        if visit.access_token:
            token = await fresh_token(visit)
            async with httpx.AsyncClient(base_url=settings.yibao, timeout=10) as yibao:
                for name, path in (
                    ("balance", "/open/v1/balance"),
                    ("records", "/open/v1/consumption"),
                    ("family", "/open/v1/family"),
                ):
                    answer = await yibao.get(path, headers={"Authorization": f"Bearer {token}"})
                    rows.append(describe(name, answer))
        body = "".join(rows) or "<p>尚未连接医保账户。</p>"
        note = f'<p role="alert">{html.escape(visit.error)}</p>' if visit.error else ""
        return HTMLResponse(
            f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>演示应用</title></head>
<body><main><h1>演示应用</h1>{note}
<p><a href="/login">用医保账户登录</a></p>
<p>已授权范围：<span data-testid="scope">{html.escape(visit.scope)}</span></p>
{body}
<form method="post" action="/sign-out"><button type="submit">退出并撤销令牌</button></form>
</main></body></html>"""
        )

    def describe(name: str, answer: httpx.Response) -> str:
        if answer.status_code == 200:
            data = answer.json()
            if name == "balance":
                text = f"余额 {data['balance']} 元（{data['name']}）"
            elif name == "records":
                text = f"消费记录 {len(data['items'])} 条"
            else:
                text = f"家庭共济 {len(data['beneficiaries'])} 项授权"
        else:
            # RFC 9457: `code` is insufficient_scope (403), invalid_token (401), rate_limited …
            problem = answer.json()
            text = f"{answer.status_code} {problem.get('code')}"
        return f'<p data-testid="read-{name}">{name}: {html.escape(text)}</p>'

    @app.post("/sign-out")
    async def sign_out(request: Request) -> Response:
        _, visit = visit_of(request)
        if visit.refresh_token:
            async with client() as yibao:
                await yibao.post("/oauth/revoke", data={"token": visit.refresh_token})
        visit.access_token = visit.refresh_token = visit.scope = ""
        return RedirectResponse("/", 303)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--yibao", default="http://localhost:8000")
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    settings = Settings(
        yibao=args.yibao.rstrip("/"),
        client_id=args.client_id,
        client_secret=args.client_secret,
        redirect_uri=f"http://127.0.0.1:{args.port}/callback",
    )
    uvicorn.run(create_app(settings), host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
