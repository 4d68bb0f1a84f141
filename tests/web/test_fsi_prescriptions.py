"""7201 电子处方线下流转授权 over HTTP on both databases: a pharmacy is authorised once per
prescription, another person's or an expired prescription is refused naming the field, a
hospital may not send it, and 2601 revokes it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import settlement_world
from tests.support.fsi import Institution
from yibao.kernel.clock import CHINA_TZ
from yibao.prescriptions.tables import PrescriptionAuthorisation
from yibao.runtime import Runtime
from yibao.settlement import service


@pytest.fixture
async def w(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> settlement_world.World:
    built = await settlement_world.build(runtime, session, client)
    await session.close()
    await built.pharmacy.sign_in()
    await built.hospital.sign_in()
    return built


def _ago(runtime: Runtime, **delta: float) -> str:
    return (runtime.clock.now().astimezone(CHINA_TZ) - timedelta(**delta)).strftime(
        "%Y-%m-%d %H:%M:%S"
    )


def _request(runtime: Runtime, w: settlement_world.World, **override: Any) -> dict[str, Any]:
    data = {
        "hi_rxno": "RX440305202612070001",
        "psn_no": w.person.person.psn_no,
        "prsc_fixmedins_code": w.hospital.code,
        "prsc_time": _ago(runtime, hours=2),
        "rx_trace_code": "TRACE0001",
        "phar_name": "李药师",
        **override,
    }
    return {"data": {k: v for k, v in data.items() if v is not None}}


def _refused(answer: dict[str, Any], text: str) -> None:
    assert answer["infcode"] == -1, answer
    assert text in answer["err_msg"], answer["err_msg"]


async def _rows(runtime: Runtime) -> list[PrescriptionAuthorisation]:
    async with runtime.sessions() as s:
        found = await s.execute(
            select(PrescriptionAuthorisation).order_by(PrescriptionAuthorisation.id)
        )
        return list(found.scalars())


async def test_a_pharmacy_is_authorised_once_and_2601_revokes_it(
    runtime: Runtime, w: settlement_world.World
) -> None:
    msgid = w.pharmacy.new_msgid()
    # One body for the message and its resend: the same msgid with other content (a prsc_time
    # a second later) is a different message, which the gateway refuses.
    request = _request(runtime, w)
    first = await w.pharmacy.call("7201", request, msgid=msgid)
    assert first["infcode"] == 0, first
    answer = first["output"]["data"]
    assert answer["auth_stas"] == "1" and answer["hi_rxno"] == "RX440305202612070001"
    assert answer["auth_no"].startswith("RA") and answer["fixmedins_code"] == w.pharmacy.code
    assert answer["auth_endtime"] > answer["auth_time"]
    assert await w.pharmacy.call("7201", request, msgid=msgid) == first
    # Asked again (a new msgid): the authorisation it holds, not a second one.
    again = await w.pharmacy.call("7201", _request(runtime, w))
    assert again["output"]["data"]["auth_no"] == answer["auth_no"]
    [row] = await _rows(runtime)
    assert row.status == "active" and row.rx_trace_code == "TRACE0001"

    # Another pharmacy is refused while this one holds it.
    async with runtime.sessions() as s:
        made = await service.add_institution(
            s,
            runtime.cipher,
            runtime.clock,
            service.NewInstitution("P44030500632", "深圳福田大药房", "440300"),
        )
    second = Institution(w.pharmacy.http, "P44030500632", "深圳福田大药房", made.token, "440300")
    await second.sign_in()
    _refused(await second.call("7201", _request(runtime, w)), "已授权其他定点药店")

    # The same prescription for another person is refused.
    other = _request(runtime, w, psn_no=w.resident.person.psn_no)
    _refused(await w.pharmacy.call("7201", other), "input.data.hi_rxno")

    psn_no = w.person.person.psn_no
    undo = {"data": {"psn_no": psn_no, "omsgid": msgid, "oinfno": "7201"}}
    reversed_ = await w.pharmacy.call("2601", undo)
    assert reversed_["output"]["data"]["rever_result"] == "authorisation", reversed_
    twice = await w.pharmacy.call("2601", undo)
    assert twice["output"]["data"]["rever_result"] == "nothing"
    [row] = await _rows(runtime)
    assert row.status == "revoked" and row.revoked_at is not None
    # Revoked: it may be authorised again, under a new number.
    anew = await w.pharmacy.call("7201", _request(runtime, w))
    assert anew["infcode"] == 0 and anew["output"]["data"]["auth_no"] != answer["auth_no"]
    assert [r.status for r in await _rows(runtime)] == ["revoked", "active"]


async def test_7201_refuses_naming_the_field_and_writes_nothing(
    runtime: Runtime, w: settlement_world.World
) -> None:
    cases = [
        ({"hi_rxno": None}, "input.data.hi_rxno 缺失"),
        ({"hi_rxno": "处方１"}, "input.data.hi_rxno"),
        ({"prsc_time": "2026-02-30 10:00:00"}, "input.data.prsc_time"),
        ({"prsc_time": _ago(runtime, days=3, minutes=1)}, "处方已过有效期"),
        ({"prsc_time": _ago(runtime, hours=-2)}, "input.data.prsc_time 晚于当前时间"),
        ({"prsc_fixmedins_code": w.pharmacy.code}, "input.data.prsc_fixmedins_code"),
        ({"prsc_fixmedins_code": "H99999999999"}, "input.data.prsc_fixmedins_code"),
        ({"psn_no": "NOBODY"}, "psn_no=NOBODY"),
    ]
    for override, named in cases:
        _refused(await w.pharmacy.call("7201", _request(runtime, w, **override)), named)
    # A hospital does not send 7201.
    refused = await w.hospital.call("7201", _request(runtime, w))
    assert refused["infcode"] == -1, refused
    assert await _rows(runtime) == []
