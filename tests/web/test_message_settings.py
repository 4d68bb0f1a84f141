"""消息设置: a person turns the SMS of credits on and off on their settings page (off until they
ask), and the crediting runs read the same preference."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.identity import PASSWORD, member
from tests.web.identity_client import post_form
from yibao.notifications import service as notifications
from yibao.runtime import Runtime


async def _wanted(session: AsyncSession, person_id: int) -> bool:
    found = await notifications.credit_sms_wanted(session, person_id)
    await session.commit()  # end the read: SQLite holds its lock until then
    return found


async def test_the_person_turns_credit_sms_on_and_off(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    me = await member(runtime, session, name="王芳")
    assert (await client.get("/messages/settings")).status_code == 303  # signed in only
    signed_in = await post_form(client, "/login", identifier=me.phone, password=PASSWORD)
    assert signed_in.status_code == 303

    page = await client.get("/messages/settings")
    assert page.status_code == 200
    assert "划入时也发短信提醒我" in page.text and "checked" not in page.text
    assert await _wanted(session, me.person_id) is False

    saved = await post_form(client, "/messages/settings", credit_sms="1")
    assert saved.status_code == 200 and "已保存" in saved.text and "checked" in saved.text
    assert await _wanted(session, me.person_id) is True
    assert "checked" in (await client.get("/messages/settings")).text

    await post_form(client, "/messages/settings")  # the box left empty
    assert await _wanted(session, me.person_id) is False
    assert "/messages/settings" in (await client.get("/me")).text
