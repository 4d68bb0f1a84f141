"""消息 through the app: the page, the home badge and the API; a person sees only their own."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.identity import PASSWORD, member
from tests.support.world import define_regions, enrol
from tests.web.identity_client import post_form
from yibao.notifications import repository as outbox
from yibao.notifications import service as delivery
from yibao.notifications.domain import Channel
from yibao.notifications.tables import Notice
from yibao.runtime import Runtime


class NoSms:
    async def send(self, phone: str, text: str) -> None:
        raise AssertionError("no SMS in this test")


async def _two_people(runtime: Runtime) -> tuple[int, int]:
    async with runtime.sessions() as s:
        await define_regions(s)
        first = (await enrol(runtime, s, name="王芳")).person.id
        second = (await enrol(runtime, s, name="李强")).person.id
    return first, second


async def _notices(runtime: Runtime, person_id: int, count: int, tag: str) -> list[int]:
    """`count` notices an hour apart, oldest first; returns their ids in that order."""
    start = runtime.clock.now() - timedelta(hours=count)
    async with runtime.sessions() as s:
        rows = [
            Notice(
                person_id=person_id,
                subject=f"{tag}提醒{i}",
                body=f"{tag}：您的医保个人账户支付 {i}.00 元",
                created_at=start + timedelta(hours=i),
            )
            for i in range(count)
        ]
        s.add_all(rows)
        await s.commit()
        return [r.id for r in rows]


def _person(person_id: int) -> dict[str, str]:
    return {"x-test-person": str(person_id)}


async def test_worker_notice_reaches_the_page_the_badge_and_the_api_for_real_sessions(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    me = await member(runtime, session, name="王芳")
    other = await member(runtime, session, name="李强")
    await outbox.enqueue(
        session,
        channel=Channel.INAPP,
        dedup_key="pay:1",
        subject="医保个人账户支付提醒",
        body="您的医保个人账户在某药店支付 12.30 元",
        now=runtime.clock.now(),
        person_id=me.person_id,
    )
    await session.commit()
    assert await delivery.deliver_due(session, runtime.clock, runtime.cipher, NoSms()) == 1

    visitor = await client.get("/")
    assert visitor.status_code == 200 and 'data-testid="messages-link"' not in visitor.text
    assert (await client.get("/messages")).status_code == 303
    signed_in = await post_form(client, "/login", identifier=me.phone, password=PASSWORD)
    assert signed_in.status_code == 303
    home = await client.get("/")
    assert 'data-testid="unread-badge"' in home.text and ">1</span>" in home.text
    page = await client.get("/messages")
    assert page.status_code == 200
    assert "医保个人账户支付提醒" in page.text and page.text.count("is-unread") == 1
    await client.get(page.text.split('href="/messages/')[1].split('"')[0].join(("/messages/", "")))
    assert 'data-testid="unread-badge"' not in (await client.get("/")).text

    # The other person, through the API with a real bearer token: nothing of mine.
    token = await client.post(
        "/api/v1/auth/tokens", json={"identifier": other.phone, "password": PASSWORD}
    )
    bearer = {"authorization": f"Bearer {token.json()['token']}"}
    theirs = (await client.get("/api/v1/notices", headers=bearer)).json()
    assert theirs == {"unread": 0, "notices": [], "next_before": None}
    assert (await client.get("/api/v1/notices")).status_code == 401


async def test_newest_first_opening_marks_read_and_others_are_not_found(
    web: httpx.AsyncClient, runtime: Runtime
) -> None:
    first, second = await _two_people(runtime)
    mine = await _notices(runtime, first, 3, "甲")
    theirs = await _notices(runtime, second, 1, "乙")

    page = (await web.get("/messages", headers=_person(first))).text
    positions = [page.index(f"甲提醒{i}") for i in (2, 1, 0)]
    assert positions == sorted(positions)
    assert page.count("is-unread") == 3 and "3 条未读" in page

    opened = await web.get(f"/messages/{mine[1]}", headers=_person(first))
    assert opened.status_code == 200 and "甲：您的医保个人账户支付 1.00 元" in opened.text
    page = (await web.get("/messages", headers=_person(first))).text
    assert page.count("is-unread") == 2 and page.count("is-read") == 1
    async with runtime.sessions() as s:
        read_at = (await s.get(Notice, mine[1])).read_at  # type: ignore[union-attr]
    assert read_at is not None
    await web.get(f"/messages/{mine[1]}", headers=_person(first))
    async with runtime.sessions() as s:
        assert (await s.get(Notice, mine[1])).read_at == read_at  # type: ignore[union-attr]

    # Another person's notice: not found, and left unread.
    refused = await web.get(f"/messages/{theirs[0]}", headers=_person(first))
    assert refused.status_code == 404 and "乙提醒" not in refused.text
    async with runtime.sessions() as s:
        assert (await s.get(Notice, theirs[0])).read_at is None  # type: ignore[union-attr]

    done = await web.post("/messages/read", headers=_person(first))
    assert done.status_code == 303
    page = (await web.get("/messages", headers=_person(first))).text
    assert page.count("is-unread") == 0 and 'data-testid="mark-all-read"' not in page
    async with runtime.sessions() as s:
        assert (await s.get(Notice, theirs[0])).read_at is None  # type: ignore[union-attr]


async def test_messages_page_pages_back_in_time(web: httpx.AsyncClient, runtime: Runtime) -> None:
    first, _ = await _two_people(runtime)
    await _notices(runtime, first, 23, "甲")
    page = (await web.get("/messages", headers=_person(first))).text
    assert page.count('data-testid="message-link"') == 20
    assert "甲提醒22" in page and "甲提醒2<" not in page
    older = page.split('href="/messages?before=')[1].split('"')[0]
    rest = (await web.get(f"/messages?before={older}", headers=_person(first))).text
    assert rest.count('data-testid="message-link"') == 3
    assert all(f"甲提醒{i}<" in rest for i in (0, 1, 2))


async def test_notices_api(web: httpx.AsyncClient, runtime: Runtime) -> None:
    first, second = await _two_people(runtime)
    mine = await _notices(runtime, first, 5, "甲")
    theirs = await _notices(runtime, second, 2, "乙")

    assert (await web.get("/api/v1/notices")).status_code == 401
    body = (await web.get("/api/v1/notices?limit=2", headers=_person(first))).json()
    assert body["unread"] == 5
    assert [n["id"] for n in body["notices"]] == [mine[4], mine[3]]
    assert body["notices"][0]["read_at"] is None and body["next_before"] == mine[3]
    rest = (
        await web.get(f"/api/v1/notices?limit=10&before={mine[3]}", headers=_person(first))
    ).json()
    assert [n["id"] for n in rest["notices"]] == [mine[2], mine[1], mine[0]]
    assert rest["next_before"] is None
    bad = await web.get("/api/v1/notices?limit=0", headers=_person(first))
    assert bad.status_code == 422

    read = await web.post(f"/api/v1/notices/{mine[0]}/read", headers=_person(first))
    assert read.status_code == 200 and read.json()["read_at"] is not None
    assert read.json()["subject"] == "甲提醒0"
    assert (await web.get("/api/v1/notices", headers=_person(first))).json()["unread"] == 4

    for notice_id in theirs:
        refused = await web.post(f"/api/v1/notices/{notice_id}/read", headers=_person(first))
        assert refused.status_code == 404
    # Their cursor does not page through their notices either.
    crossed = await web.get(f"/api/v1/notices?before={theirs[1]}", headers=_person(first))
    assert {n["id"] for n in crossed.json()["notices"]} == set(mine)

    marked = await web.post("/api/v1/notices/read", headers=_person(first))
    assert marked.json() == {"marked": 4}
    assert (await web.get("/api/v1/notices", headers=_person(first))).json()["unread"] == 0
    assert (await web.get("/api/v1/notices", headers=_person(second))).json()["unread"] == 2


async def test_messages_page_in_english(web: httpx.AsyncClient, runtime: Runtime) -> None:
    first, _ = await _two_people(runtime)
    await _notices(runtime, first, 2, "甲")
    web.cookies.set("yibao_lang", "en")
    page = (await web.get("/messages", headers=_person(first))).text
    assert "<h1>Messages</h1>" in page and "2 unread" in page and "Mark all as read" in page
