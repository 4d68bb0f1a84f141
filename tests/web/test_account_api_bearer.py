"""The account API with identity's real bearer tokens: sign in, step up, read only one's own."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.connections import end_every_connection
from tests.support.identity import CARD_PASSWORD, PASSWORD, member, stepped_up_bearer
from tests.support.spending import credit, settle
from yibao.runtime import Runtime


async def test_bearer_token_then_step_up_then_own_records_only(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    me = await member(runtime, session, name="李明")
    other = await member(runtime, session, name="赵强")
    await credit(session, me.person_id, 50000, datetime(2026, 1, 10, tzinfo=UTC), "c-me")
    await credit(session, other.person_id, 50000, datetime(2026, 1, 10, tzinfo=UTC), "c-other")
    await settle(session, other.person_id, "SETLOTHER1", datetime.now(UTC), total_fen=900,
                 fund_fen=0, acct_fen=900)  # fmt: skip
    signed_in = await client.post(
        "/api/v1/auth/tokens", json={"identifier": me.phone, "password": PASSWORD}
    )
    assert signed_in.status_code == 201, signed_in.text
    bearer = {"authorization": f"Bearer {signed_in.json()['token']}"}

    before = await client.get("/api/v1/account", headers=bearer)
    assert before.status_code == 403 and before.json()["error"]["code"] == "step_up_required"
    stepped = await client.post(
        "/api/v1/auth/step-up",
        json={"method": "card_password", "card_password": CARD_PASSWORD},
        headers=bearer,
    )
    assert stepped.status_code == 200, stepped.text

    account = (await client.get("/api/v1/account", headers=bearer)).json()
    assert account["name"] == "李明" and account["balance"] == "500.00"
    theirs = await client.get("/api/v1/consumption/SETLOTHER1", headers=bearer)
    assert theirs.status_code == 404
    listing = (await client.get("/api/v1/consumption", headers=bearer)).json()
    assert listing["items"] == [] and listing["matching"] == 0


async def test_a_read_survives_the_server_dropping_every_connection(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, backend: str
) -> None:
    """Pooled connections are not pinged (db/engine.py): after a database restart the first
    request on each one meets a dead socket. A read is then run once more, not failed."""
    if backend != "postgres":
        pytest.skip("the PostgreSQL server drops connections; SQLite has none to drop")
    me = await member(runtime, session, name="李明")
    await credit(session, me.person_id, 50000, datetime(2026, 1, 10, tzinfo=UTC), "c-me")
    bearer = await stepped_up_bearer(client, me.phone)
    for path in ("/api/v1/account", "/api/v1/consumption"):
        assert (await client.get(path, headers=bearer)).status_code == 200
        assert await end_every_connection(runtime.settings.effective_database_url)
        again = await client.get(path, headers=bearer)
        assert again.status_code == 200, again.text
    account = (await client.get("/api/v1/account", headers=bearer)).json()
    assert account["balance"] == "500.00"
