"""The kiosk's other ways in and out over HTTP: the 医保电子凭证 (one use), ID number + SMS code,
the idle timeout and a lost reader, a kiosk that stops calling in, and printing through the
bridge's API (a printer that cannot print offers the phone; a job belongs to its session)."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.identity import CARD_PASSWORD, Member, last_code
from tests.support.kiosk import issue_card, register
from tests.support.world import fund
from yibao.kernel.clock import FixedClock
from yibao.kernel.idnumber import mask_phone
from yibao.kiosks.service import devices
from yibao.notifications.tables import OutboxMessage
from yibao.runtime import Runtime
from yibao.settlement import service as settlement
from yibao.web.kiosk.access import KEY_COOKIE, SESSION_COOKIE


def _bridge(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


async def _card_session(
    web: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, li: Member
) -> str:
    await issue_card(session, li)
    key = await register(runtime, session)
    web.cookies.set(KEY_COOKIE, key, path="/kiosk")
    await web.post(
        "/kiosk/device/card",
        json={"present": True, "card_no": li.card_no, "ssn": li.id_number},
        headers=_bridge(key),
    )
    r = await web.post("/kiosk/card", data={"card_password": CARD_PASSWORD})
    assert r.status_code == 303
    return key


async def test_voucher_opens_once(
    web: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, li: Member
) -> None:
    key = await register(runtime, session)
    web.cookies.set(KEY_COOKIE, key, path="/kiosk")
    token, _ = await settlement.issue_ec_token(
        session, li.person_id, runtime.clock, timedelta(minutes=5)
    )
    r = await web.post("/kiosk/voucher", data={"ec_token": token})
    assert r.status_code == 303 and SESSION_COOKIE in web.cookies
    assert (await web.get("/kiosk/balance")).status_code == 200
    await web.post("/kiosk/exit")
    assert SESSION_COOKIE not in web.cookies
    again = await web.post("/kiosk/voucher", data={"ec_token": token})
    assert again.status_code == 400 and "已经用过" in again.text
    wrong = await web.post("/kiosk/voucher", data={"ec_token": "not-a-token"})
    assert wrong.status_code == 400 and "二维码无效" in wrong.text


async def test_id_number_and_sms_code(
    web: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, li: Member
) -> None:
    key = await register(runtime, session)
    web.cookies.set(KEY_COOKIE, key, path="/kiosk")
    sent = await web.post("/kiosk/sms", data={"id_number": li.id_number})
    assert sent.status_code == 200 and "验证码已发送" in sent.text
    assert mask_phone(li.phone) not in sent.text and li.id_number not in sent.text
    attempt = sent.text.split('name="attempt" value="', 1)[1].split('"', 1)[0]
    code = await last_code(session, mask_phone(li.phone))
    wrong = await web.post("/kiosk/sms/code", data={"attempt": attempt, "code": "000000"})
    assert wrong.status_code == 400
    r = await web.post("/kiosk/sms/code", data={"attempt": attempt, "code": code})
    assert r.status_code == 303 and SESSION_COOKIE in web.cookies
    assert (await web.get("/kiosk/home")).status_code == 200
    # An ID number nobody enrolled gets the same words, and no code works for it.
    stranger = await web.post("/kiosk/sms", data={"id_number": "110101199001011237"})
    assert stranger.status_code == 200 and "验证码已发送" in stranger.text
    await session.rollback()
    sms = await session.execute(select(OutboxMessage).where(OutboxMessage.channel == "sms"))
    assert len(sms.scalars().all()) == 1


async def test_idle_and_lost_reader_end_the_session(
    web: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, li: Member
) -> None:
    key = await _card_session(web, runtime, session, li)
    assert isinstance(runtime.clock, FixedClock)
    runtime.clock.advance(timedelta(seconds=40))
    assert (await web.get("/kiosk/balance")).status_code == 200  # a touch resets the minute
    runtime.clock.advance(timedelta(seconds=66))
    state = (await web.get("/kiosk/state")).json()
    assert state["session"] is False and state["ended_reason"] == "idle"
    r = await web.get("/kiosk/balance")
    assert r.status_code == 403 and "长时间没有操作" in r.text

    await web.post("/kiosk/device/card", json={"present": False}, headers=_bridge(key))
    await _card_session_again(web, key, li)
    lost = await web.post(
        "/kiosk/device/card", json={"present": False, "reader": False}, headers=_bridge(key)
    )
    assert lost.json()["card"] == "no_reader"
    r = await web.get("/kiosk/balance")
    assert r.status_code == 403 and "读卡器连接中断" in r.text


async def _card_session_again(web: httpx.AsyncClient, key: str, li: Member) -> None:
    web.cookies.set(KEY_COOKIE, key, path="/kiosk")
    await web.post(
        "/kiosk/device/card",
        json={"present": True, "card_no": li.card_no, "ssn": li.id_number},
        headers=_bridge(key),
    )
    r = await web.post("/kiosk/card", data={"card_password": CARD_PASSWORD})
    assert r.status_code == 303


async def test_a_kiosk_that_stops_calling_in_is_flagged(
    runtime: Runtime, session: AsyncSession, li: Member
) -> None:
    key = await register(runtime, session)
    await devices.heartbeat(session, runtime.clock, key, {"state": "idle", "reasons": []})
    [fresh] = await devices.kiosk_statuses(session, runtime.clock)
    assert not fresh.stale and fresh.printer_problem is None
    assert isinstance(runtime.clock, FixedClock)
    runtime.clock.advance(timedelta(minutes=3))
    [quiet] = await devices.kiosk_statuses(session, runtime.clock)
    assert quiet.stale


async def test_printing_through_the_bridge(
    web: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, li: Member
) -> None:
    await fund(session, li.person_id, 50_000, "kiosk-print")
    await session.commit()
    key = await _card_session(web, runtime, session, li)
    beat = await web.post(
        "/kiosk/device/heartbeat", json={"printer": {"state": "idle"}}, headers=_bridge(key)
    )
    assert beat.json()["jobs"] == []
    r = await web.post("/kiosk/print", data={"since": "2026-01-01", "until": "2026-11-25"})
    assert r.status_code == 303
    job = int(r.headers["location"].rsplit("/", 1)[1])
    assert (await web.get(f"/kiosk/print/{job}/state")).json()["state"] == "queued"
    beat = await web.post(
        "/kiosk/device/heartbeat", json={"printer": {"state": "idle"}}, headers=_bridge(key)
    )
    assert beat.json()["jobs"] == [job]
    other = await register(runtime, session, kiosk_id="HALL-02")
    assert (
        await web.get(f"/kiosk/device/jobs/{job}.pdf", headers=_bridge(other))
    ).status_code == 404
    pdf = await web.get(f"/kiosk/device/jobs/{job}.pdf", headers=_bridge(key))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert (await web.get(f"/kiosk/device/jobs/{job}.pdf", headers=_bridge(key))).status_code == 404
    await web.post(f"/kiosk/device/jobs/{job}", json={"printed": True}, headers=_bridge(key))
    assert (await web.get(f"/kiosk/print/{job}/state")).json()["state"] == "printed"

    # The printer runs out of paper: refused with a sentence, and the phone instead.
    await web.post(
        "/kiosk/device/heartbeat",
        json={"printer": {"state": "stopped", "reasons": ["media-empty-error"]}},
        headers=_bridge(key),
    )
    r = await web.post("/kiosk/print", data={"since": "2026-01-01", "until": "2026-11-25"})
    assert r.status_code == 409 and "打印机缺纸" in r.text and "发送到手机" in r.text
    r = await web.post("/kiosk/print/phone", data={"since": "2026-01-01", "until": "2026-11-25"})
    assert r.status_code == 200 and "已发送到您的手机" in r.text
    await session.rollback()
    notices = await session.execute(select(OutboxMessage).where(OutboxMessage.channel == "inapp"))
    assert any("/account/statement.pdf" in m.body for m in notices.scalars())
    await session.rollback()

    # Another person's browser cannot see this session's job.
    web.cookies.delete(SESSION_COOKIE, path="/kiosk")
    assert (await web.get(f"/kiosk/print/{job}/state")).status_code == 403


async def test_touches_keep_the_session_and_the_same_card_reported_again_too(
    web: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, li: Member
) -> None:
    key = await _card_session(web, runtime, session, li)
    assert isinstance(runtime.clock, FixedClock)
    for _ in range(3):  # reading one page for three minutes, touching it
        runtime.clock.advance(timedelta(seconds=50))
        assert (await web.post("/kiosk/touch")).status_code == 204
    # The bridge restarts and reports the same card: the session goes on.
    again = await web.post(
        "/kiosk/device/card",
        json={"present": True, "card_no": li.card_no, "ssn": li.id_number},
        headers=_bridge(key),
    )
    assert again.json()["card"] == "present"
    assert (await web.get("/kiosk/balance")).status_code == 200
    runtime.clock.advance(timedelta(seconds=66))
    assert (await web.post("/kiosk/touch")).status_code == 403
