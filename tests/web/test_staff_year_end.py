"""年度结转 at the workbench: a clerk proposes the year, the same person cannot approve it, an
administrator who is someone else approves it, nothing moves before; the worker then pays each
account's interest and the page shows the totals per region."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from tests.support.crediting import REGION, balances, province, write_file
from tests.support.principals import staff_header
from yibao.crediting import service as crediting
from yibao.crediting.year_end import year_interest
from yibao.kernel.clock import FixedClock
from yibao.runtime import Runtime

CLERK = staff_header(11, "张建华", "clerk", "徐汇区医保中心")
ADMIN = staff_header(13, "王管理", "admin", "市医保中心")


async def test_the_year_end_needs_a_second_person_before_interest_moves(
    web: httpx.AsyncClient, runtime: Runtime, tmp_path: Path
) -> None:
    clock = FixedClock(datetime(2026, 12, 7, 2, 0, tzinfo=UTC))
    runtime.clock = clock
    async with runtime.sessions() as s:
        members = await province(runtime, s, employees=2, retirees=1)
        path = write_file(tmp_path / "m.csv", "2026-11", members)
        run = await crediting.start_run(
            s, clock, month="2026-11", source=path, region=None, by="cli:t", approved=True
        )
        await crediting.execute(s, runtime.cipher, clock, run.id)
        await crediting.set_interest_rate(s, clock, REGION, "1.5%", by="cli:t")
        year_end = await balances(s)
    clock.advance(timedelta(days=40))

    page = await web.get("/staff/crediting", headers=CLERK)
    assert "年度结转" in page.text and "1.50%" in page.text
    proposed = await web.post("/staff/year-end", data={"year": "2026"}, headers=CLERK)
    assert proposed.status_code == 303
    url = proposed.headers["location"]
    assert "待复核" in (await web.get(url, headers=ADMIN)).text
    assert (await web.post(f"{url}/approve", headers=CLERK)).status_code == 403
    assert (await web.post(f"{url}/approve", headers=ADMIN)).status_code == 303
    async with runtime.sessions() as s:
        assert await balances(s) == year_end  # the worker moves money, not the page
        found = await crediting.open_year_end(s)
        assert found is not None
        await crediting.close_year(s, clock, found.id)
    async with runtime.sessions() as s:
        after = await balances(s)
    assert {p: after[p] - year_end[p] for p in after} == {
        p: year_interest(b, 150) for p, b in year_end.items()
    }
    done = await web.get(url, headers=CLERK)
    assert "已完成" in done.text and REGION in done.text

    refused = await web.post("/staff/year-end", data={"year": "2027"}, headers=CLERK)
    assert refused.status_code in (400, 422) and "尚未结束" in refused.text
