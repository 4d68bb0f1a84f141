"""Security headers on every response (issue #24, item 7), and pages that need no inline script."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.principal import install_test_principal
from tests.support.spending import credit
from tests.support.world import define_regions, enrol
from yibao.runtime import Runtime
from yibao.web.app import create_app

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "yibao" / "web" / "templates"


@pytest.fixture
async def person_id(runtime: Runtime, session: AsyncSession) -> int:
    await define_regions(session)
    me = await enrol(runtime, session, name="李明")
    await credit(session, me.person.id, 80000, datetime(2026, 1, 10, tzinfo=UTC), "c1")
    return me.person.id


async def _client(runtime: Runtime, base: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime=runtime)
    install_test_principal(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base) as c:
        yield c


@pytest.fixture
async def web(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _client(runtime, "http://testserver"):
        yield c


@pytest.fixture
async def web_https(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _client(runtime, "https://testserver"):
        yield c


SENSITIVE = [
    "/account",
    "/account/contributions",
    "/account/contributions.csv",
    "/account/consumption.csv?since=2026-01-01",
    "/account/statement.pdf?since=2026-01-01",
    "/security",
    "/staff/login",
    "/staff",
    "/login",
    "/api/v1/account",
    "/no-such-page",
]


@pytest.mark.parametrize("path", SENSITIVE)
async def test_every_response_carries_the_headers(
    web: httpx.AsyncClient, person_id: int, path: str
) -> None:
    answer = await web.get(path, headers={"x-test-person": str(person_id)})
    assert answer.status_code < 500, answer.text
    h = answer.headers
    policy = h["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "same-origin"
    assert h["x-frame-options"] == "DENY"
    assert "no-store" in h["cache-control"]
    assert "strict-transport-security" not in h  # plain HTTP: HSTS would be ignored anyway


async def test_institution_interface_answers_carry_them_too(web: httpx.AsyncClient) -> None:
    answer = await web.post("/fsi/api/rsfComIfsService/callService", content=b"{}")
    assert answer.status_code == 200
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cache-control"] == "no-store"


async def test_hsts_over_https(web_https: httpx.AsyncClient) -> None:
    answer = await web_https.get("/login")
    assert answer.headers["strict-transport-security"].startswith("max-age=31536000")


async def test_static_files_stay_cacheable(web: httpx.AsyncClient) -> None:
    answer = await web.get("/static/app.css")
    assert answer.status_code == 200
    assert "no-store" not in answer.headers.get("cache-control", "")
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_templates_hold_no_inline_script_or_style() -> None:
    """The policy refuses inline script and style, so a template that used them would break in
    the browser: find them here first."""
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|<style\b", re.I)
    found = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for match in inline.finditer(path.read_text(encoding="utf-8"))
    ]
    assert not found, found
