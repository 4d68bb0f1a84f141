"""The statements an account query sends: a guard against the hot path growing again, not a timing.

A keyed read is one round trip; so is a warm `GET /api/v1/account` or first page of
`GET /api/v1/consumption` on PostgreSQL: the bearer session is checked in the statement that
reads the page (identity's `CALLER_CTE`, web/caller.py), on one pooled connection, sent to the
driver directly (none through SQLAlchemy's execution), with no BEGIN, no COMMIT and no write.
Whatever that statement does not let through takes identity's full check, with the same answers
as before (docs/benchmarks.md, "Account query").
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.identity import member, stepped_up_bearer
from tests.support.spending import credit, settle
from tests.web.test_fsi_statements import counting
from yibao.identity.tables import SignInSession
from yibao.runtime import Runtime


async def test_a_warm_account_query_is_one_statement(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, backend: str
) -> None:
    me = await member(runtime, session, name="李明")
    await credit(session, me.person_id, 50000, datetime.now(UTC) - timedelta(days=3), "c-me")
    await settle(session, me.person_id, "SETLME0001", datetime.now(UTC) - timedelta(days=1),
                 total_fen=900, fund_fen=0, acct_fen=900)  # fmt: skip
    bearer = await stepped_up_bearer(client, me.phone)
    for path in ("/api/v1/account", "/api/v1/consumption"):
        assert (await client.get(path, headers=bearer)).status_code == 200  # warm

    for path, head in (
        ("/api/v1/account", "WITH caller"),
        ("/api/v1/consumption", "WITH caller"),
    ):
        with counting(runtime) as seen:
            answer = await client.get(path, headers=bearer)
        assert answer.status_code == 200, answer.text
        assert seen.checkouts == 1
        if backend == "postgres":
            assert seen.heads() == [head], seen.heads()
            assert seen.through_sqlalchemy == 0
        else:
            # SQLite (in-process, no round trips) runs it through SQLAlchemy's text(), after the
            # engine's BEGIN (db/engine.py).
            assert [h for h in seen.heads() if h not in {"BEGIN", "ROLLBACK"}] == [head]
    page = answer.json()
    assert page["matching"] == 1 and page["items"][0]["setl_id"] == "SETLME0001"
    # Every filter takes the same one statement, the scopes naming the caller in it.
    for query, matching in (
        ("scope=self", 1),
        ("scope=family", 0),
        ("kind=settlement&institution=SETL", 0),
        ("kind=refund", 0),
        ("limit=1", 1),
    ):
        with counting(runtime) as seen:
            answer = await client.get(f"/api/v1/consumption?{query}", headers=bearer)
        assert answer.status_code == 200, (query, answer.text)
        assert answer.json()["matching"] == matching, (query, answer.json())
        if backend == "postgres":
            assert seen.heads() == ["WITH caller"], (query, seen.heads())


async def test_what_the_one_statement_does_not_let_through_gets_the_full_check(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    me = await member(runtime, session, name="李明")
    bearer = await stepped_up_bearer(client, me.phone)
    assert (await client.get("/api/v1/account", headers=bearer)).status_code == 200

    # Used long enough ago to be marked again: the read answers and the session is touched.
    now = datetime.now(UTC)
    await session.execute(update(SignInSession).values(last_seen_at=now - timedelta(minutes=5)))
    await session.commit()
    assert (await client.get("/api/v1/consumption", headers=bearer)).status_code == 200
    seen_at = (await session.execute(SignInSession.__table__.select())).one().last_seen_at
    assert seen_at.replace(tzinfo=UTC) > now - timedelta(minutes=1)

    # No step-up left: 403, as on every other route; idle past the timeout: 401.
    await session.execute(update(SignInSession).values(step_up_until=now - timedelta(seconds=1)))
    await session.commit()
    for path in ("/api/v1/account", "/api/v1/consumption", "/api/v1/consumption?since=bad"):
        answer = await client.get(path, headers=bearer)
        assert answer.status_code == 403, (path, answer.text)
        assert answer.json()["error"]["code"] == "step_up_required"
    await session.execute(update(SignInSession).values(last_seen_at=now - timedelta(hours=1)))
    await session.commit()
    for path in ("/api/v1/account", "/api/v1/consumption?since=bad"):
        assert (await client.get(path, headers=bearer)).status_code == 401, path
    forged = {"authorization": "Bearer " + "x" * 43}
    assert (await client.get("/api/v1/consumption", headers=forged)).status_code == 401
    assert (await client.get("/api/v1/account")).status_code == 401
