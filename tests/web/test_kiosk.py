"""The kiosk over HTTP (the real stack is in tests/browser/test_kiosk_journey.py): the device's
key on every call, identification by card + 医保卡密码 with its lockout, audited reads on the
person's 查询记录, sessions that end with the card, and a revoked kiosk refused at once."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.identity import CARD_PASSWORD, Member
from tests.support.kiosk import PLACE, issue_card, register
from tests.support.world import fund
from yibao.audit import service as audit
from yibao.kiosks.service import devices
from yibao.runtime import Runtime
from yibao.web.kiosk.access import KEY_COOKIE, SESSION_COOKIE


async def _kiosk(runtime: Runtime, session: AsyncSession, li: Member) -> str:
    await issue_card(session, li)
    return await register(runtime, session)


def _bridge(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


async def _insert(web: httpx.AsyncClient, key: str, li: Member, ssn: str | None = None) -> str:
    r = await web.post(
        "/kiosk/device/card",
        json={"present": True, "card_no": li.card_no, "ssn": ssn or li.id_number},
        headers=_bridge(key),
    )
    assert r.status_code == 200, r.text
    return str(r.json()["card"])


async def _signed_in(web: httpx.AsyncClient, key: str, li: Member) -> None:
    web.cookies.set(KEY_COOKIE, key, path="/kiosk")
    assert await _insert(web, key, li) == "present"
    assert (await web.get("/kiosk/state")).json()["card"] == "present"
    r = await web.post("/kiosk/card", data={"card_password": CARD_PASSWORD})
    assert r.status_code == 303 and r.headers["location"] == "/kiosk/home"


async def test_card_password_opens_audited_reads(
    web: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, li: Member
) -> None:
    await fund(session, li.person_id, 12_345, "kiosk-credit")
    await session.commit()
    key = await _kiosk(runtime, session, li)
    await _signed_in(web, key, li)
    balance = await web.get("/kiosk/balance")
    assert balance.status_code == 200
    assert "123.45" in balance.text
    assert li.name not in balance.text  # masked: 李*
    for path in ("/kiosk/consumption", "/kiosk/contributions", "/kiosk/family", "/kiosk/claims"):
        assert (await web.get(path)).status_code == 200, path
    lines = await audit.lookups_for_person(session, li.person_id)
    assert {line.who for line in lines} == {f"自助查询机 {PLACE}"}
    assert {"查看个人账户", "查看家庭共济", "查看报销申请"} <= {line.action_name for line in lines}
    await session.rollback()
    # The card leaves the reader: the session ends on the server, whatever the browser does.
    r = await web.post("/kiosk/device/card", json={"present": False}, headers=_bridge(key))
    assert r.json()["card"] == "none"
    after = await web.get("/kiosk/balance")
    assert after.status_code == 403
    assert "123.45" not in after.text and "社保卡已取出" in after.text
    assert SESSION_COOKIE not in web.cookies


async def test_wrong_password_counts_and_locks(
    web: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, li: Member
) -> None:
    key = await _kiosk(runtime, session, li)
    web.cookies.set(KEY_COOKIE, key, path="/kiosk")
    await _insert(web, key, li)
    r = await web.post("/kiosk/card", data={"card_password": "000000"})
    assert r.status_code == 400 and "医保卡密码不正确，还可尝试4次" in r.text
    for _ in range(4):
        r = await web.post("/kiosk/card", data={"card_password": "000000"})
    assert r.status_code == 429 and "医保卡密码错误次数过多" in r.text
    # Locked: even the right password is refused now, and no session was opened.
    r = await web.post("/kiosk/card", data={"card_password": CARD_PASSWORD})
    assert r.status_code == 429
    assert SESSION_COOKIE not in web.cookies


async def test_a_session_open_when_the_server_stopped_is_ended_at_its_start(
    web: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, li: Member
) -> None:
    """The card readers' reports were lost while the server was down (a card taken out then was
    never recorded): a session opened before the start is not trusted for one more request."""
    from yibao.web.app import create_app

    key = await _kiosk(runtime, session, li)
    await _signed_in(web, key, li)
    assert (await web.get("/kiosk/balance")).status_code == 200
    restarted = create_app(runtime=runtime)
    async with restarted.router.lifespan_context(restarted):  # the server's start, no request
        pass
    after = await web.get("/kiosk/balance")
    assert after.status_code == 403 and "系统已重新启动" in after.text
    # The card still in the reader identifies again with its password.
    r = await web.post("/kiosk/card", data={"card_password": CARD_PASSWORD})
    assert r.status_code == 303
    assert (await web.get("/kiosk/balance")).status_code == 200


@pytest.mark.parametrize("which", ["stranger", "not_ssc"])
async def test_unusable_cards_are_refused_with_a_sentence(
    web: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, li: Member, which: str
) -> None:
    key = await _kiosk(runtime, session, li)
    web.cookies.set(KEY_COOKIE, key, path="/kiosk")
    if which == "stranger":
        state = await _insert(web, key, li, ssn="110101199001011237")
        expected = "没有参保登记信息"
    else:
        r = await web.post(
            "/kiosk/device/card",
            json={"present": True, "problem": "这不是社会保障卡，请插入社保卡"},
            headers=_bridge(key),
        )
        state, expected = r.json()["card"], "这不是社会保障卡"
    assert state == "refused"
    assert expected in (await web.get("/kiosk/state")).json()["message"]
    r = await web.post("/kiosk/card", data={"card_password": CARD_PASSWORD})
    assert r.status_code == 400 and "请先插入社保卡" in r.text


async def test_revoked_kiosk_is_refused_at_once(
    web: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, li: Member
) -> None:
    key = await _kiosk(runtime, session, li)
    await _signed_in(web, key, li)
    assert (await web.get("/kiosk/balance")).status_code == 200
    await devices.revoke_kiosk(session, runtime.clock, None, "HALL-01")
    r = await web.get("/kiosk/balance")
    assert r.status_code == 403 and "本机已停用" in r.text
    assert (await web.get("/kiosk")).status_code == 403
    bridge = await web.post("/kiosk/device/heartbeat", json={}, headers=_bridge(key))
    assert bridge.status_code == 403
    unknown = await web.post("/kiosk/device/heartbeat", json={}, headers=_bridge("nope"))
    assert unknown.status_code == 403


async def test_staff_register_and_list_kiosks(web: httpx.AsyncClient) -> None:
    from tests.support.principals import staff_header

    admin = staff_header(1, "管理员", "admin", "医保经办大厅")
    r = await web.post("/staff/kiosks", data={"kiosk_id": "HALL-02", "place": PLACE}, headers=admin)
    assert r.status_code == 200 and "本机密钥只显示这一次" in r.text
    key = r.text.split('id="new-kiosk-key">', 1)[1].split("<", 1)[0]
    beat = await web.post(
        "/kiosk/device/heartbeat",
        json={"printer": {"state": "stopped", "reasons": ["paused"]}},
        headers=_bridge(key),
    )
    assert beat.status_code == 200
    page = await web.get("/staff/kiosks", headers=admin)
    assert "HALL-02" in page.text and "打印机已暂停" in page.text and "在线" in page.text
    assert key not in page.text  # shown once
    clerk = staff_header(2, "经办员", "clerk", "医保经办大厅")
    refused = await web.post(
        "/staff/kiosks", data={"kiosk_id": "HALL-03", "place": PLACE}, headers=clerk
    )
    assert refused.status_code == 403
