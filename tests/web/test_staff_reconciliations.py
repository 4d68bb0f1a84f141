"""Staff see each institution's 对账 history at /staff/reconciliations, and one reconciliation's
differing lines at /staff/reconciliations/{id}: opening those is on the audit trail."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import settlement_world
from tests.support.principals import install_test_principals, staff_header, with_csrf
from tests.web.test_fsi_reconciliation import Scene, _sale, line_of
from yibao.audit.tables import AuditRecord
from yibao.enrolment import repository as enrolment_repository
from yibao.runtime import Runtime
from yibao.settlement.tables import Reconciliation

STAFF = staff_header(7, "张建华", "clerk", "徐汇区医保中心")


@pytest.fixture
async def staff_client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    from yibao.web.app import create_app

    app = create_app(runtime=runtime)
    install_test_principals(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield with_csrf(c)


async def test_history_and_audited_differences(
    runtime: Runtime,
    session: AsyncSession,
    client: httpx.AsyncClient,
    staff_client: httpx.AsyncClient,
) -> None:
    w = await settlement_world.build(runtime, session, client)
    person = w.person.person
    id_number = enrolment_repository.decrypt_id_number(runtime.cipher, person)
    await session.close()
    scene = Scene(runtime, w.pharmacy, w.hospital, person.psn_no)
    await w.pharmacy.sign_in()
    for _ in range(2):
        answer = await w.pharmacy.call("2102", _sale(person.psn_no, id_number))
        scene.settled.append(answer["output"]["setlinfo"])
    answer = await scene.totals(
        fixmedins_setl_cnt=1, medfee_sumamt="30.00", fund_pay_sumamt="0.00", acct_pay="0.00"
    )
    assert answer["output"]["stmtinfo"]["stmt_rslt"] == "1"
    answer = await scene.details([line_of(scene.settled[0])])
    assert answer["output"]["stmtinfo"]["diff_cnt"] == 1

    listed = await staff_client.get("/staff/reconciliations", headers=STAFF)
    assert listed.status_code == 200, listed.text
    assert listed.text.count('data-testid="reconciliation"') == 2
    assert "对账记录" in listed.text and "不平" in listed.text and w.pharmacy.code in listed.text
    other = await staff_client.get(
        "/staff/reconciliations", params={"fixmedins_code": w.hospital.code}, headers=STAFF
    )
    assert 'data-testid="reconciliation"' not in other.text

    async with runtime.sessions() as s:
        details_id = await s.scalar(
            select(Reconciliation.id).where(Reconciliation.kind == "details")
        )
        before = len(list((await s.execute(select(AuditRecord))).scalars()))
    shown = await staff_client.get(f"/staff/reconciliations/{details_id}", headers=STAFF)
    assert shown.status_code == 200, shown.text
    missing = scene.settled[1]["setl_id"]
    assert f'data-setl-id="{missing}"' in shown.text and "待机构确认或冲正" in shown.text
    async with runtime.sessions() as s:
        records = list((await s.execute(select(AuditRecord).order_by(AuditRecord.seq))).scalars())
    [read] = records[before:]
    assert (read.action, read.actor_id, read.subject_person_id) == (
        "reconciliation.view",
        "7",
        None,
    )
    assert f"{details_id}" in read.detail_json

    nobody = await staff_client.get("/staff/reconciliations/999999", headers=STAFF)
    assert nobody.status_code == 404
    staff_client.cookies.set("yibao_lang", "en")
    english = await staff_client.get(f"/staff/reconciliations/{details_id}", headers=STAFF)
    assert english.status_code == 200
    assert "At yibao only" in english.text and "Mismatch" in english.text
