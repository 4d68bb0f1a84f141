"""At the counter: print the person's statement and reset their card password, both audited."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from tests.support.identity import CARD_PASSWORD, CLIENT, Member, member
from tests.support.principals import staff_header
from tests.support.spending import credit
from tests.support.world import new_id_number
from yibao.audit.tables import AuditRecord
from yibao.identity import repository as identity_repository
from yibao.identity import service as identity
from yibao.identity.domain import CardPasswordRejected
from yibao.identity.service.common import password_matches
from yibao.identity.tables import SecurityEvent
from yibao.kernel.clock import china_today
from yibao.notifications.tables import OutboxMessage
from yibao.runtime import Runtime

OFFICE = "徐汇区医保中心"
NEW_PASSWORD = "802461"


@pytest.fixture
async def served(runtime: Runtime) -> Member:
    async with runtime.sessions() as s:
        person = await member(runtime, s, name="王芳")
        await s.commit()
        at = datetime.now(UTC) - timedelta(days=40)
        await credit(s, person.person_id, 45_678, at, f"c-{person.person_id}")
    return person


@pytest.fixture
async def clerk(runtime: Runtime) -> dict[str, str]:
    # A real staff row: identity's security events name the staff member by key.
    async with runtime.sessions() as s:
        row, _ = await identity.create_staff(
            runtime, s, username="clerk7", name="张建华", password="Staff@2026", roles=["clerk"],
            office=OFFICE,
        )  # fmt: skip
    return staff_header(row.id, "张建华", "clerk", OFFICE)


REVIEWER = staff_header(12, "李审核", "reviewer", OFFICE)


async def _audit(runtime: Runtime, action: str) -> list[AuditRecord]:
    async with runtime.sessions() as s:
        stmt = select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.seq)
        return list((await s.execute(stmt)).scalars())


async def _card_hash(runtime: Runtime, account_id: int) -> str | None:
    async with runtime.sessions() as s:
        account = await identity_repository.account(s, account_id)
        assert account is not None
        return account.card_password_hash


async def test_print_the_persons_statement_with_the_lookups_reason(
    web: httpx.AsyncClient, runtime: Runtime, served: Member, clerk: dict[str, str]
) -> None:
    url = f"/staff/persons/{served.person_id}/statement.pdf"
    no_reason = await web.get(url, headers=clerk)
    assert no_reason.status_code == 422 and "请先选择查询事由" in no_reason.text
    bad_day = await web.get(f"{url}?reason=counter_visit&since=2026-13-01", headers=clerk)
    assert bad_day.status_code == 422 and "开始日期应为日期" in bad_day.text
    too_long = await web.get(
        f"{url}?reason=counter_visit&since=2015-01-01&until=2026-01-01", headers=clerk
    )
    assert too_long.status_code == 422 and "最长 5 年" in too_long.text
    assert await _audit(runtime, "statement.print") == []

    today = china_today(runtime.clock)  # the page's today is Beijing's, not UTC's
    since = (today - timedelta(days=90)).isoformat()
    printed = await web.get(
        f"{url}?reason=counter_visit&since={since}&until={today.isoformat()}", headers=clerk
    )
    assert printed.status_code == 200
    assert printed.headers["content-type"] == "application/pdf"
    assert printed.content.startswith(b"%PDF") and len(printed.content) > 1000
    assert "filename*=UTF-8''" in printed.headers["content-disposition"]
    assert f"_{since}_{today.isoformat()}.pdf" in printed.headers["content-disposition"]

    (record,) = await _audit(runtime, "statement.print")
    assert record.subject_person_id == served.person_id and record.reason == "counter_visit"
    assert record.actor_name == "张建华" and record.office == OFFICE
    assert json.loads(record.detail_json) == {"since": since, "until": today.isoformat()}

    # The person sees the print on 查询记录, with the reason in words.
    lookups = await web.get("/me/lookups", headers={"x-test-person": f"{served.person_id};stepped"})
    assert "打印结算单" in lookups.text and "窗口办理" in lookups.text

    # The person page offers the form for the last 12 months, with the look-up's reason.
    page = await web.get(f"/staff/persons/{served.person_id}?reason=counter_visit", headers=clerk)
    assert f"/staff/persons/{served.person_id}/statement.pdf" in page.text
    assert f'value="{today.isoformat()}"' in page.text


async def test_unknown_person_has_no_statement(
    web: httpx.AsyncClient, runtime: Runtime, clerk: dict[str, str]
) -> None:
    missing = await web.get(
        "/staff/persons/999999/statement.pdf?reason=counter_visit", headers=clerk
    )
    assert missing.status_code == 404 and "没有找到参保信息" in missing.text
    assert await _audit(runtime, "statement.print") == []


def _reset_form(served: Member, **changes: str) -> dict[str, str]:
    form = {
        "reason": "counter_visit",
        "id_checked": "yes",
        "id_number": served.id_number.lower(),  # typed with a small x: still the same number
        "card_password": NEW_PASSWORD,
        "card_password_again": NEW_PASSWORD,
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v != "-"}


async def test_reset_card_password_needs_the_id_checked_and_typed_again(
    web: httpx.AsyncClient, runtime: Runtime, served: Member, clerk: dict[str, str]
) -> None:
    url = f"/staff/persons/{served.person_id}/card-password"
    before = await _card_hash(runtime, served.account_id)
    refusals = [
        (REVIEWER, _reset_form(served), 403, "无权重置医保卡密码"),
        (clerk, _reset_form(served, id_checked="-"), 422, "请先核验本人身份证原件"),
        (clerk, _reset_form(served, id_number=new_id_number()), 422, "与该参保人不一致"),
        (clerk, _reset_form(served, id_number="12345"), 422, "身份证号码应为18位"),
        (clerk, _reset_form(served, card_password_again="802462"), 422, "两次输入"),
        (clerk, _reset_form(served, card_password="12ab56", card_password_again="12ab56"),
         422, "6位数字"),
        (clerk, _reset_form(served, reason=""), 422, "请先选择查询事由"),
    ]  # fmt: skip
    for headers, form, status, message in refusals:
        response = await web.post(url, data=form, headers=headers)
        assert response.status_code == status, (form, response.text[:300])
        assert message in response.text, message
    assert await _card_hash(runtime, served.account_id) == before
    assert await _audit(runtime, "card_password.reset") == []
    # The refusal is shown beside the form on the person's page, not on an error page.
    shown = await web.post(url, data=_reset_form(served, id_checked="-"), headers=clerk)
    assert 'data-testid="card-error"' in shown.text and served.name in shown.text


async def test_reset_card_password_at_the_counter(
    web: httpx.AsyncClient, runtime: Runtime, served: Member, clerk: dict[str, str]
) -> None:
    url = f"/staff/persons/{served.person_id}/card-password"
    done = await web.post(url, data=_reset_form(served), headers=clerk)
    assert done.status_code == 200 and "医保卡密码已重置" in done.text

    stored = await _card_hash(runtime, served.account_id)
    assert password_matches(stored, NEW_PASSWORD) and not password_matches(stored, CARD_PASSWORD)
    (record,) = await _audit(runtime, "card_password.reset")
    assert record.subject_person_id == served.person_id and record.reason == "counter_visit"
    assert NEW_PASSWORD not in record.detail_json and served.id_number not in record.detail_json
    async with runtime.sessions() as s:
        event = (
            await s.execute(
                select(SecurityEvent).where(
                    SecurityEvent.account_id == served.account_id,
                    SecurityEvent.kind == "card_password_set",
                )
            )
        ).scalar_one()
        assert event.channel == "staff" and event.staff_id is not None
        sent = list(
            (
                await s.execute(
                    select(OutboxMessage).where(OutboxMessage.subject == "医保卡密码已重置")
                )
            ).scalars()
        )
    assert sorted(m.channel for m in sent) == ["inapp", "sms"]
    assert all(m.person_id == served.person_id and OFFICE in m.body for m in sent)

    # The new password works for the person's step-up; the old one no longer does.
    async with runtime.sessions() as s:
        issued = await identity.sign_in_with_password(
            runtime, s, served.phone, "Yibao@2026", via="cookie", client=CLIENT
        )
    async with runtime.sessions() as s:
        with pytest.raises(CardPasswordRejected):
            await identity.step_up_with_card_password(
                runtime, s, session_id=issued.session_id, account_id=served.account_id,
                card_password=CARD_PASSWORD, via="cookie", client=CLIENT,
            )  # fmt: skip
    async with runtime.sessions() as s:
        await identity.step_up_with_card_password(
            runtime, s, session_id=issued.session_id, account_id=served.account_id,
            card_password=NEW_PASSWORD, via="cookie", client=CLIENT,
        )  # fmt: skip


async def test_no_card_password_to_reset_without_an_online_account(
    web: httpx.AsyncClient, runtime: Runtime, clerk: dict[str, str]
) -> None:
    from tests.support.world import define_regions, enrol

    id_number = new_id_number()
    async with runtime.sessions() as s:
        await define_regions(s)
        person = (await enrol(runtime, s, name="赵敏", id_number=id_number)).person
    response = await web.post(
        f"/staff/persons/{person.id}/card-password",
        data={"reason": "counter_visit", "id_checked": "yes", "id_number": id_number,
              "card_password": NEW_PASSWORD, "card_password_again": NEW_PASSWORD},
        headers=clerk,
    )  # fmt: skip
    assert response.status_code == 404 and "尚未开通网上账户" in response.text
    assert await _audit(runtime, "card_password.reset") == []
