"""Security headers on every response (issue #24, item 7).

- `Content-Security-Policy`: scripts, styles, fonts and connections from this origin only (the
  pages carry no inline script or style: JS lives in /static), images also as `data:` (the
  voucher's QR code), no plugins, no `<base>`, forms post only here, and no framing
  (`frame-ancestors 'none'`, with `X-Frame-Options: DENY` for older browsers) so a page of
  someone else's cannot overlay ours to steal a tap. The API docs (/docs) load Swagger UI's
  script and styles from its CDN and keep their own, looser policy.
- `Referrer-Policy: same-origin`: a link out never tells another site which page it came from.
- `X-Content-Type-Options: nosniff`: an uploaded document is never run as a script or a page.
- `Cache-Control: no-store` unless the route chose its own (the service worker) or it is a static
  file: balances, statements, exports and the staff's views of people must not stay in a shared
  or back-button cache.
- `Strict-Transport-Security` when the request came over HTTPS (as the proxy in front says).

Plain ASGI, like the identity middleware: the institution interface's hot path pays for a few
header lines and nothing else.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; media-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
_DOCS = ("/docs", "/redoc")
# A route that set one of these itself (a document download's own nosniff) keeps its own.
_ALWAYS = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    ("permissions-policy", "camera=(), geolocation=(), payment=(), microphone=(self)"),
]
_HSTS = ("strict-transport-security", "max-age=31536000; includeSubDomains")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        policy = DOCS_POLICY if path.startswith(_DOCS) else PAGE_POLICY
        https = scope.get("scheme") == "https"
        cacheable = path.startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _ALWAYS:
                    headers.setdefault(name, value)
                headers.setdefault("content-security-policy", policy)
                if not cacheable:
                    headers.setdefault("cache-control", "no-store")
                if https:
                    headers.setdefault(*_HSTS)
            await send(message)

        await self.app(scope, receive, with_headers)
