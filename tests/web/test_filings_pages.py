"""异地就医备案 over HTTP: the phone pages (apply, see the state, refusals beside the form, cancel)
and the counter (a clerk files for a person who came in; the read is on their 查询记录)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text

from tests.support.family import (
    csrf_of,
    employee,
    page_sign_in,
    photo,
    staff_member,
    staff_sign_in,
    world,
)
from yibao.filings.domain import KIND_NAMES, STATE_NAMES
from yibao.kernel.clock import china_today
from yibao.runtime import Runtime
from yibao.web.app import create_app
from yibao.web.pages.filings import KIND_LABELS, STATE_LABELS


@pytest.fixture
async def staff_client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def test_the_pages_name_kinds_and_states_as_the_domain_does() -> None:
    assert {k.value: v for k, v in KIND_NAMES.items()} == KIND_LABELS
    assert {k.value: v for k, v in STATE_NAMES.items()} == STATE_LABELS


async def test_phone_application_state_and_cancel(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await world(runtime)
    me = await employee(runtime)
    anonymous = await client.get("/filings")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    await page_sign_in(client, runtime, me)
    empty = await client.get("/filings")
    assert "还没有异地就医备案" in empty.text
    form = await client.get("/filings/new")
    assert "备案类型" in form.text and "就医地医保区划代码" in form.text
    today = china_today(runtime.clock).isoformat()
    base = {
        "kind": "working_away",
        "treatment_name": "海南省三亚市",
        "treatment_admdvs": "460200",
        "begins": today,
        "csrf_token": csrf_of(client),
    }
    refused = await client.post("/filings", data=base)
    assert refused.status_code == 422
    assert "居住或工作证明" in refused.text and 'value="海南省三亚市"' in refused.text
    made = await client.post(
        "/filings", data=base, files={"proof": ("居住证.png", photo(), "image/png")}
    )
    assert made.status_code == 303, made.text
    detail = await client.get(made.headers["location"])
    assert "已生效" in detail.text and "长期有效" in detail.text and "居住证.png" in detail.text
    listed = await client.get("/filings")
    assert "常驻异地工作" in listed.text and "已生效" in listed.text
    # The English catalogue covers the pages.
    await client.get("/settings/lang", params={"to": "en", "next": "/filings"})
    english = await client.get("/filings")
    assert "Registration for treatment elsewhere" in english.text
    assert "Active" in english.text
    assert "Working in another region" in english.text
    await client.get("/settings/lang", params={"to": "zh_CN", "next": "/filings"})
    # A long-term 备案 younger than the region's six months cannot be cancelled yet.
    cancel_url = made.headers["location"] + "/cancel"
    too_soon = await client.post(cancel_url, data={"reason": "", "csrf_token": csrf_of(client)})
    assert too_soon.status_code == 403 and "满 6 个月" in too_soon.text
    # A temporary one elsewhere may be cancelled at once.
    temporary = await client.post(
        "/filings",
        data={**base, "kind": "other_temporary", "treatment_admdvs": "440300",
              "treatment_name": "广东省深圳市"},
    )  # fmt: skip
    assert temporary.status_code == 303, temporary.text
    cancelled = await client.post(
        temporary.headers["location"] + "/cancel",
        data={"reason": "行程取消", "csrf_token": csrf_of(client)},
    )
    assert cancelled.status_code == 303
    assert "已撤销" in (await client.get(temporary.headers["location"])).text
    async with runtime.sessions() as s:  # what the person did themselves sends them nothing
        assert (
            await s.execute(
                text("SELECT count(*) FROM outbox_messages WHERE subject LIKE '%备案%'")
            )
        ).scalar_one() == 0


async def test_counter_files_for_a_person_and_the_read_is_recorded(
    staff_client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await world(runtime)
    person = await employee(runtime)
    await staff_member(runtime, "clerk1", ["clerk"], "经办员乙")
    await staff_sign_in(staff_client, "clerk1")
    url = f"/staff/persons/{person.person_id}/filings"
    no_reason = await staff_client.get(url)
    assert no_reason.status_code == 422 and "查询事由" in no_reason.text
    desk = await staff_client.get(url, params={"reason": "counter_visit"})
    assert desk.status_code == 200 and "窗口办理备案" in desk.text
    filed = await staff_client.post(
        url,
        data={
            "reason": "counter_visit",
            "kind": "referral",
            "treatment_name": "北京市",
            "treatment_admdvs": "110000",
            "begins": china_today(runtime.clock).isoformat(),
            "referral_medins_code": "H31010400012",
            "csrf_token": csrf_of(staff_client),
        },
    )
    assert filed.status_code == 303, filed.text
    shown = await staff_client.get(filed.headers["location"])
    assert "异地转诊" in shown.text and "已生效" in shown.text
    async with runtime.sessions() as s:
        actions = (
            await s.execute(
                text(
                    "SELECT action, actor_type, reason FROM audit_records"
                    f" WHERE subject_person_id = {person.person_id} AND action LIKE 'filings.%'"
                    " ORDER BY seq"
                )
            )
        ).all()
        channel = (await s.execute(text("SELECT channel FROM filings"))).scalar_one()
        told = (
            await s.execute(
                text(
                    "SELECT person_id, channel, body FROM outbox_messages"
                    " WHERE subject LIKE '%备案%'"
                )
            )
        ).all()
    assert [tuple(a) for a in actions] == [  # the refused read (no reason) recorded nothing
        ("filings.view", "staff", "counter_visit"),
        ("filings.filed", "staff", "counter_visit"),
        ("filings.view", "staff", "counter_visit"),
    ]
    assert channel == "counter"
    # The person hears of it in 消息.
    assert [(t[0], t[1]) for t in told] == [(person.person_id, "inapp")]
    assert "医保经办窗口已为您办理异地就医备案：异地转诊" in told[0][2]
