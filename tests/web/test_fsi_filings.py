"""2501 转院备案 and 2502 转院备案撤销 over HTTP on both databases: a hospital refers its patient to
another region; the 备案 then covers treatment there; only that hospital cancels it; 2601 refuses
to undo a 2501 (2502 is how); each refusal names the field and writes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import settlement_world
from yibao.filings import repository as filings_repository
from yibao.filings.tables import FilingRow
from yibao.kernel.clock import china_today
from yibao.notifications.tables import OutboxMessage
from yibao.runtime import Runtime


@pytest.fixture
async def w(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> settlement_world.World:
    world = await settlement_world.build(runtime, session, client)
    await session.close()
    await world.hospital.sign_in()
    return world


def referral(runtime: Runtime, w: settlement_world.World, **over: Any) -> dict[str, Any]:
    today = china_today(runtime.clock).isoformat()
    refmedin = {
        "psn_no": w.person.person.psn_no,
        "insutype": "310",
        "tel": "",
        "addr": "",
        "insu_optins": "440300",
        "diag_code": "C34.900",
        "diag_name": "肺恶性肿瘤",
        "dise_cond_dscr": "需上级医院进一步诊治",
        "reflin_medins_no": "H11010100001",
        "reflin_medins_name": "北京协和医院",
        "mdtrtarea_admdvs": "110000",
        "hosp_agre_refl_flag": "1",
        "refl_type": "3",
        "refl_date": today,
        "refl_rea": "本院无相应诊疗条件",
        "refl_opnn": "同意转诊",
        "begndate": today,
        "enddate": today,
        **over,
    }
    return {"refmedin": refmedin}


async def count(runtime: Runtime) -> int:
    async with runtime.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(FilingRow)) or 0)


async def test_2501_files_a_referral_that_covers_treatment_there_and_2502_cancels_it(
    runtime: Runtime, w: settlement_world.World
) -> None:
    msgid = w.hospital.new_msgid()
    filed = await w.hospital.call("2501", referral(runtime, w), msgid=msgid)
    assert filed["infcode"] == 0, filed
    serial = filed["output"]["result"]["trt_dcla_detl_sn"]
    assert filed["output"]["result"]["enddate"] and "有效期" in filed["warn_msg"]
    # Once per msgid: the same message again gets the first answer and files nothing more.
    again = await w.hospital.call("2501", referral(runtime, w), msgid=msgid)
    assert again["output"] == filed["output"] and await count(runtime) == 1
    today = china_today(runtime.clock)
    async with runtime.sessions() as s:
        found = await filings_repository.covering_filing(s, w.person.person.id, "110105", today)
    assert found is not None and found.serial == serial
    assert found.kind.value == "referral" and found.referral_medins_code == w.hospital.code

    undo = {"data": {"psn_no": w.person.person.psn_no, "omsgid": msgid, "oinfno": "2501"}}
    refused = await w.hospital.call("2601", undo)
    assert refused["infcode"] == -1 and "2502" in refused["err_msg"]

    cancel = {"data": {"psn_no": w.person.person.psn_no, "trt_dcla_detl_sn": serial, "memo": ""}}
    by_pharmacy = await w.pharmacy.call("2502", cancel)
    assert by_pharmacy["infcode"] == -1
    done = await w.hospital.call("2502", cancel)
    assert done["infcode"] == 0, done
    async with runtime.sessions() as s:
        gone = await filings_repository.covering_filing(s, w.person.person.id, "110105", today)
    assert gone is None
    async with runtime.sessions() as s:
        told = (
            (
                await s.execute(
                    select(OutboxMessage.subject).where(OutboxMessage.subject.like("%备案%"))
                )
            )
            .scalars()
            .all()
        )
    assert sorted(told) == ["异地就医备案已办理", "异地就医备案已撤销"]
    twice = await w.hospital.call("2502", cancel)
    assert twice["infcode"] == -1 and "已撤销" in twice["err_msg"]


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"mdtrtarea_admdvs": "11000"}, "treatment_admdvs"),
        ({"mdtrtarea_admdvs": "440300"}, "参保地之外"),
        ({"begndate": "2026-02-30"}, "input.refmedin.begndate"),
        ({"insutype": "999"}, "input.refmedin.insutype"),
        ({"psn_no": "nobody"}, "psn_no"),
    ],
)
async def test_2501_refusals_name_the_field_and_write_nothing(
    runtime: Runtime, w: settlement_world.World, over: dict[str, str], field: str
) -> None:
    answer = await w.hospital.call("2501", referral(runtime, w, **over))
    assert answer["infcode"] == -1 and field in answer["err_msg"], answer
    assert await count(runtime) == 0
