"""明细审核规则 at /staff: a clerk proposes, a reviewer approves; the proposer cannot approve
their own; bad limits answer the form again with the field named and write nothing; a change
of a rule in force is the next version, prefilled from the one it changes."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from tests.support.principals import staff_header
from yibao.auditrules.tables import AuditRuleVersion
from yibao.kernel.clock import china_today
from yibao.runtime import Runtime

CLERK = staff_header(21, "陈经办", "clerk", "市医保中心")
REVIEWER = staff_header(22, "吴复核", "reviewer", "市医保中心")


def form(runtime: Runtime, **over: str) -> dict[str, str]:
    return {
        "rule_code": "QTY-1",
        "name": "缬沙坦单次限量",
        "kind": "quantity",
        "med_list_codg": "XC09AAD012A001010104291",
        "severity": "block",
        "max_cnt": "3",
        "effective_from": china_today(runtime.clock).isoformat(),
        "enabled": "1",
        "reason": "新增",
        **over,
    }


async def _versions(runtime: Runtime) -> list[AuditRuleVersion]:
    async with runtime.sessions() as s:
        return list((await s.scalars(select(AuditRuleVersion).order_by(AuditRuleVersion.id))).all())


async def test_staff_keep_the_rule_book_under_maker_checker(
    web: httpx.AsyncClient, runtime: Runtime
) -> None:
    page = await web.get("/staff/auditrules", headers=CLERK)
    assert page.status_code == 200 and "提交审核规则" in page.text and "还没有审核规则" in page.text

    bad = await web.post("/staff/auditrules", data=form(runtime, max_cnt="-2"), headers=CLERK)
    assert bad.status_code == 422 and "最大数量应为大于 0 的数字" in bad.text
    assert 'value="QTY-1"' in bad.text  # the form comes back as typed
    assert await _versions(runtime) == []

    proposed = await web.post("/staff/auditrules", data=form(runtime), headers=CLERK)
    assert proposed.status_code == 303
    [v1] = await _versions(runtime)
    assert (v1.status, v1.version, v1.proposed_by_name) == ("proposed", 1, "陈经办")

    own = await web.get("/staff/auditrules", headers=CLERK)
    assert "approve-rule" not in own.text and "待复核" in own.text
    refused = await web.post(f"/staff/auditrules/{v1.id}/approve", headers=CLERK)
    assert refused.status_code == 403 and "无权复核" in refused.text
    approved = await web.post(f"/staff/auditrules/{v1.id}/approve", headers=REVIEWER)
    assert approved.status_code == 303
    listed = await web.get("/staff/auditrules", headers=REVIEWER)
    assert "已生效" in listed.text and "吴复核" in listed.text

    edit = await web.get(f"/staff/auditrules?edit={v1.id}", headers=CLERK)
    assert 'value="QTY-1"' in edit.text and 'value="3"' in edit.text
    changed = await web.post(
        "/staff/auditrules", data=form(runtime, severity="warn", max_cnt="5"), headers=REVIEWER
    )
    assert changed.status_code == 303
    self_approved = await web.post(
        f"/staff/auditrules/{(await _versions(runtime))[-1].id}/approve", headers=REVIEWER
    )
    assert self_approved.status_code == 403 and "不能复核自己提交" in self_approved.text
    assert [(v.version, v.status) for v in await _versions(runtime)] == [
        (1, "approved"),
        (2, "proposed"),
    ]
