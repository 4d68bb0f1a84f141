"""The account pages and API through the app: figures from the ledger, scoped to the person."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.principal import install_test_principal
from tests.support.spending import credit, settle
from tests.support.world import define_regions, enrol
from yibao.kernel.clock import FixedClock
from yibao.runtime import Runtime

NOW = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)


@pytest.fixture
async def world(runtime: Runtime, session: AsyncSession) -> dict[str, int]:
    runtime.clock = FixedClock(NOW)
    await define_regions(session)
    me = await enrol(runtime, session, name="李明")
    other = await enrol(runtime, session, name="赵强", birth=date(1970, 2, 2))
    await credit(session, me.person.id, 80000, datetime(2026, 1, 10, tzinfo=UTC), "c1")
    await credit(session, other.person.id, 20000, datetime(2026, 1, 10, tzinfo=UTC), "c2")
    await settle(session, me.person.id, "SETL0001", datetime(2026, 3, 5, 3, tzinfo=UTC),
                 total_fen=20000, fund_fen=12000, acct_fen=6000)  # fmt: skip
    await settle(session, other.person.id, "SETL0002", datetime(2026, 4, 5, 3, tzinfo=UTC),
                 total_fen=3000, fund_fen=0, acct_fen=3000)  # fmt: skip
    return {"me": me.person.id, "other": other.person.id}


@pytest.fixture
async def app_client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    from yibao.web.app import create_app

    app = create_app(runtime=runtime)
    install_test_principal(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def as_person(person_id: int, mode: str = "") -> dict[str, str]:
    return {"x-test-person": f"{person_id}{':' + mode if mode else ''}"}


async def test_home_has_six_modules_and_search_jumps(app_client: httpx.AsyncClient) -> None:
    page = await app_client.get("/")
    for name in ["医保查询", "缴费记录", "消费记录", "报销进度", "家庭共济", "医保电子凭证"]:
        assert name in page.text
    jumps = {
        "查询医保": "/account", "余额": "/account", "缴费": "/account/contributions",
        "消费": "/account/consumption", "报销": "/claims", "共济": "/family", "电子凭证": "/voucher",
    }  # fmt: skip
    for words, target in jumps.items():
        found = await app_client.get("/search", params={"q": words})
        assert found.status_code == 303 and found.headers["location"] == target, words
    lost = await app_client.get("/search", params={"q": "天气"})
    assert lost.status_code == 200 and "没有找到" in lost.text


async def test_pages_need_sign_in_then_step_up(
    app_client: httpx.AsyncClient, world: dict[str, int]
) -> None:
    anonymous = await app_client.get("/account/consumption?kind=settlement")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=/account/consumption%3Fkind%3Dsettlement"
    not_verified = await app_client.get("/account", headers=as_person(world["me"], "plain"))
    assert not_verified.status_code == 303 and not_verified.headers["location"].startswith(
        "/verify?next="
    )
    api = await app_client.get("/api/v1/account", headers=as_person(world["me"], "plain"))
    assert api.status_code == 403 and api.json()["error"]["code"] == "step_up_required"


async def test_overview_shows_the_ledger_and_follows_it(
    app_client: httpx.AsyncClient, session: AsyncSession, world: dict[str, int]
) -> None:
    page = await app_client.get("/account", headers=as_person(world["me"]))
    assert page.status_code == 200
    assert 'data-fen="74000"' in page.text and "740.00" in page.text
    assert "数据更新于 2026-06-15 10:00" in page.text and "上海市" in page.text
    assert "<svg" in page.text and 'data-month="2026-03" data-fen="6000"' in page.text
    # A new ledger entry shows on the next load.
    await settle(
        session,
        world["me"],
        "SETL0003",
        NOW - timedelta(hours=1),
        total_fen=1234,
        fund_fen=0,
        acct_fen=1234,
    )
    again = await app_client.get("/account", headers=as_person(world["me"]))
    assert 'data-fen="72766"' in again.text and "727.66" in again.text


async def test_consumption_page_filters_and_hints(
    app_client: httpx.AsyncClient, world: dict[str, int]
) -> None:
    page = await app_client.get("/account/consumption", headers=as_person(world["me"]))
    assert page.status_code == 200 and "上海市第一人民医院" in page.text and "-60.00" in page.text
    assert "SETL0002" not in page.text  # another person's settlement
    narrow = await app_client.get(
        "/account/consumption", params={"since": "2026-04-01"}, headers=as_person(world["me"])
    )
    assert "当前筛选条件隐藏了 1 条记录" in narrow.text and "时间范围" in narrow.text
    bad = await app_client.get(
        "/account/consumption", params={"since": "2026-02-30"}, headers=as_person(world["me"])
    )
    assert bad.status_code == 422 and "开始日期应为日期" in bad.text and "Traceback" not in bad.text


async def test_detail_is_only_the_persons_own(
    app_client: httpx.AsyncClient, world: dict[str, int]
) -> None:
    mine = await app_client.get("/account/consumption/SETL0001", headers=as_person(world["me"]))
    assert (
        mine.status_code == 200
        and "甲类" in mine.text
        and "乙类" in mine.text
        and "阿莫西林胶囊" in mine.text
    )
    theirs = await app_client.get("/account/consumption/SETL0002", headers=as_person(world["me"]))
    assert theirs.status_code == 404
    api = await app_client.get("/api/v1/consumption/SETL0002", headers=as_person(world["me"]))
    assert api.status_code == 404 and api.json()["error"]["code"] == "unknown_settlement"


async def test_contributions_page_and_csv(
    app_client: httpx.AsyncClient, world: dict[str, int]
) -> None:
    page = await app_client.get("/account/contributions", headers=as_person(world["me"]))
    assert page.status_code == 200 and "缴费记录" in page.text
    bad = await app_client.get(
        "/account/contributions", params={"since": "2026-13"}, headers=as_person(world["me"])
    )
    assert bad.status_code == 422 and "月份应为 YYYY-MM" in bad.text
    exported = await app_client.get("/account/contributions.csv", headers=as_person(world["me"]))
    assert exported.status_code == 200 and exported.text.startswith("\ufeff费款所属期")


async def test_consumption_csv_and_pdf(
    app_client: httpx.AsyncClient, world: dict[str, int]
) -> None:
    exported = await app_client.get(
        "/account/consumption.csv", params={"since": "2026-01-01"}, headers=as_person(world["me"])
    )
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert rows[0][0] == "时间" and len(rows) == 2
    assert rows[1][2] == "上海市第一人民医院" and rows[1][7] == "-60.00" and rows[1][8] == "200.00"
    pdf = await app_client.get(
        "/account/statement.pdf", params={"since": "2026-01-01"}, headers=as_person(world["me"])
    )
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "医疗保险个人账户结算单" in text and "期末余额" in text and "740.00" in text


async def test_api_amounts_are_yuan_strings_and_pages_by_cursor(
    app_client: httpx.AsyncClient, session: AsyncSession, world: dict[str, int]
) -> None:
    for i in range(5):
        await settle(
            session,
            world["me"],
            f"SETLX{i}",
            datetime(2026, 5, 1 + i, 3, tzinfo=UTC),
            total_fen=500,
            fund_fen=0,
            acct_fen=100,
        )
    account = (await app_client.get("/api/v1/account", headers=as_person(world["me"]))).json()
    assert (
        account["balance"] == "735.00"
        and account["year_credited"] == "800.00"
        and account["insutype"] == "310"
    )
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = (
            await app_client.get(
                "/api/v1/consumption", params=params, headers=as_person(world["me"])
            )
        ).json()
        seen += [item["setl_id"] for item in body["items"]]
        assert all(isinstance(item["account_change"], str) for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ["SETLX4", "SETLX3", "SETLX2", "SETLX1", "SETLX0", "SETL0001"]
    detail = (
        await app_client.get("/api/v1/consumption/SETL0001", headers=as_person(world["me"]))
    ).json()
    assert detail["medfee_sumamt"] == "200.00" and [i["chrgitm_lv"] for i in detail["items"]] == [
        "01",
        "02",
    ]
    bad = await app_client.get(
        "/api/v1/consumption", params={"kind": "x"}, headers=as_person(world["me"])
    )
    assert bad.status_code == 422 and "消费类型" in bad.json()["error"]["message"]
    schema = (await app_client.get("/api/v1/openapi.json")).json()
    for path in [
        "/api/v1/account",
        "/api/v1/contributions",
        "/api/v1/consumption",
        "/api/v1/consumption/{setl_id}",
        "/api/v1/statement.pdf",
    ]:
        assert path in schema["paths"]


async def test_language_and_elder_switches(
    app_client: httpx.AsyncClient, world: dict[str, int]
) -> None:
    switched = await app_client.get("/settings/lang", params={"to": "en", "next": "/account"})
    assert switched.status_code == 303 and switched.headers["location"] == "/account"
    page = await app_client.get("/account", headers=as_person(world["me"]))
    assert "Account balance" in page.text and 'lang="en"' in page.text
    evil = await app_client.get("/settings/elder", params={"on": 1, "next": "//evil.example/"})
    assert evil.headers["location"] == "/"
    big = await app_client.get("/", headers=as_person(world["me"]))
    assert 'class="elder' in big.text
    await app_client.get("/settings/lang", params={"to": "zh_CN"})
    assert "账户余额" in (await app_client.get("/account", headers=as_person(world["me"]))).text


async def test_pwa_shell(app_client: httpx.AsyncClient) -> None:
    manifest = (await app_client.get("/manifest.webmanifest")).json()
    assert manifest["start_url"] == "/" and {i["sizes"] for i in manifest["icons"]} == {
        "192x192",
        "512x512",
    }
    assert (await app_client.get("/static/icons/icon-512.png")).status_code == 200
    worker = await app_client.get("/sw.js")
    assert worker.status_code == 200 and "offline" in worker.text
    assert "重试" in (await app_client.get("/offline")).text


async def test_a_failed_load_offers_a_retry(runtime: Runtime) -> None:
    from yibao.web.app import create_app

    app = create_app(runtime=runtime)

    @app.get("/account/broken")
    async def _broken() -> None:
        raise RuntimeError("database went away")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        page = await c.get("/account/broken?since=2026-01-01")
    assert page.status_code == 500 and "系统繁忙" in page.text
    assert 'id="retry" href="/account/broken?since=2026-01-01"' in page.text
    assert "database went away" not in page.text
