"""划账 at the workbench: a clerk proposes the month's file, the same person cannot approve it,
an administrator who is someone else approves it, nothing moves before; then the run (carried on
by the worker) shows its totals and its refused lines download as CSV."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx

from tests.support.crediting import balances, province
from tests.support.principals import staff_header
from tests.support.world import new_id_number
from yibao.crediting import service as crediting
from yibao.kernel.clock import FixedClock
from yibao.runtime import Runtime

CLERK = staff_header(11, "张建华", "clerk", "徐汇区医保中心")
ADMIN = staff_header(13, "王管理", "admin", "市医保中心")
ADMIN_2 = staff_header(14, "赵管理", "admin", "市医保中心")


async def test_a_run_needs_a_second_person_before_money_moves(
    web: httpx.AsyncClient, runtime: Runtime, tmp_path: Path
) -> None:
    runtime.clock = FixedClock(datetime(2026, 12, 7, 2, 0, tzinfo=UTC))
    async with runtime.sessions() as s:
        members = await province(runtime, s, employees=2, retirees=1)
    stranger = new_id_number(birth=datetime(1991, 2, 3).date())
    body = (
        "id_number,month,base,employer_amount,personal_amount\n"
        + "".join(m.line("2026-11") for m in members if not m.retired)
        + f"{stranger},2026-11,5000.00,400.00,100.00\n"
    )  # nobody: refused

    proposed = await web.post(
        "/staff/crediting",
        data={"month": "2026-11", "region": ""},
        files={"file": ("month.csv", body.encode(), "text/csv")},
        headers=CLERK,
    )
    assert proposed.status_code == 303
    run_url = proposed.headers["location"]
    run_id = int(run_url.rsplit("/", 1)[1])
    shown = await web.get(run_url, headers=ADMIN)
    assert "待复核" in shown.text and 'data-testid="approve-crediting"' in shown.text
    async with runtime.sessions() as s:
        assert set((await balances(s)).values()) == {0}

    assert (await web.post(f"{run_url}/approve", headers=CLERK)).status_code == 403
    assert (await web.post(f"{run_url}/approve", headers=ADMIN)).status_code == 303
    async with runtime.sessions() as s:
        assert set((await balances(s)).values()) == {0}  # the worker moves money, not the page
        await crediting.execute(s, runtime.cipher, runtime.clock, run_id)
    async with runtime.sessions() as s:
        assert await balances(s) == {m.person_id: m.credit_fen for m in members}

    done = await web.get(run_url, headers=CLERK)
    assert "已完成" in done.text and "退休人员" in done.text
    report = await web.get(f"{run_url}/report.csv", headers=CLERK)
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
    lines = report.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("文件,行号") and len(lines) == 2
    assert lines[1].startswith("month.csv,")
    assert "not_enrolled" in lines[1] and stranger not in lines[1]


async def test_the_proposer_cannot_approve_their_own_run(
    web: httpx.AsyncClient, runtime: Runtime, tmp_path: Path
) -> None:
    runtime.clock = FixedClock(datetime(2026, 12, 7, 2, 0, tzinfo=UTC))
    async with runtime.sessions() as s:
        await province(runtime, s, employees=1, retirees=0)
    proposed = await web.post(
        "/staff/crediting",
        data={"month": "2026-11"},
        files={"file": ("m.csv", b"id_number,month,base,employer_amount,personal_amount\n")},
        headers=ADMIN,
    )
    run_url = proposed.headers["location"]
    own = await web.post(f"{run_url}/approve", headers=ADMIN)
    assert own.status_code == 403 and "另一位" in own.text
    assert (await web.post(f"{run_url}/reject", headers=ADMIN_2)).status_code == 303
    assert "已驳回" in (await web.get(run_url, headers=ADMIN)).text
