"""服务 and 我的 through the app, without a browser: every service is listed and found by name (the
search works with no script), and the ways in (登录, 注册, 查询记录) are where people look."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.principal import install_test_principal
from tests.support.world import define_regions, enrol
from yibao.runtime import Runtime
from yibao.web.pages.home import SERVICES, module_for


@pytest.fixture
async def app_client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    from yibao.web.app import create_app

    app = create_app(runtime=runtime)
    install_test_principal(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def test_every_service_is_found_by_its_own_name() -> None:
    for service in SERVICES:
        assert module_for(service.title) is service, service.title
    assert module_for("查询医保").key == "query"  # type: ignore[union-attr]
    assert module_for("谁查看过我的信息").key == "lookups"  # type: ignore[union-attr]
    assert module_for("查询记录").key == "lookups"  # type: ignore[union-attr]
    assert module_for("共济消费明细").key == "family-payments"  # type: ignore[union-attr]


async def test_services_lists_every_service_and_its_search_jumps(
    app_client: httpx.AsyncClient,
) -> None:
    page = await app_client.get("/services")
    assert page.status_code == 200
    for service in SERVICES:
        assert f'href="{service.href}"' in page.text and service.title in page.text
    found = await app_client.get("/search", params={"q": "查询记录", "where": "services"})
    assert found.status_code == 303 and found.headers["location"] == "/me/lookups"
    lost = await app_client.get("/search", params={"q": "天气", "where": "services"})
    assert lost.status_code == 200 and "没有找到" in lost.text
    assert "<h1>服务</h1>" in lost.text  # the answer stays on 服务
    long = await app_client.get("/search", params={"q": "天" * 5000})
    assert long.status_code == 200


async def test_a_visitor_is_offered_sign_in_and_sign_up(app_client: httpx.AsyncClient) -> None:
    for path in ("/", "/me"):
        page = await app_client.get(path)
        assert page.status_code == 200
        assert ">登录</a>" in page.text and 'href="/register"' in page.text, path
        assert "/me/lookups" not in page.text
    # The bottom navigation reaches 服务 and 我的 from every person page.
    assert 'href="/services"' in page.text and 'href="/me"' in page.text


async def test_the_account_page_links_lookups(
    app_client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    # Home and 我的 when signed in are checked in the browser (tests/web/browser/
    # test_entries_journey.py): they read the session the real sign-in sets.
    await define_regions(session)
    me = await enrol(runtime, session, name="李明")
    page = await app_client.get("/account", headers={"x-test-person": str(me.person.id)})
    assert page.status_code == 200
    assert 'href="/me/lookups"' in page.text and "查看查询记录" in page.text


async def test_the_service_worker_cache_follows_the_stylesheet(
    app_client: httpx.AsyncClient,
) -> None:
    # The worker serves app.css cache-first: with a fixed cache name, a stylesheet fix (contrast,
    # 长辈版 sizes) never reached a phone that had installed the app.
    from yibao.web.pages.preferences import STATIC_DIR

    worker = await app_client.get("/sw.js")
    assert worker.status_code == 200
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["service-worker-allowed"] == "/"
    digest = hashlib.sha256((STATIC_DIR / "app.css").read_bytes()).hexdigest()[:16]
    assert f'const CACHE = "yibao-shell-{digest}";' in worker.text
