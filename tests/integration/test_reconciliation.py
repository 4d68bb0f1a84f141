"""The reconciliation use cases on both databases: a settlement belongs to the Beijing day of its
setl_time (23:59:59 on the 30th is the 30th's, 00:00 on the 1st is not), cancelled ones count
nowhere, and the history lists an institution's reconciliations newest first."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import settlement_world
from tests.web.test_fsi_reconciliation import _sale
from yibao.enrolment import repository as enrolment_repository
from yibao.runtime import Runtime
from yibao.settlement import service
from yibao.settlement.reconciliation import Totals
from yibao.settlement.service import reconciling
from yibao.settlement.tables import Settlement


def _asked(day: date, n: int) -> reconciling.Asked:
    return reconciling.Asked(
        f"P44030500631202612010900{n:04d}", "001", "收费员", "440300", day, day, "310", None,
        "input.data",
    )  # fmt: skip


async def test_a_settlement_belongs_to_its_beijing_day(
    runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    w = await settlement_world.build(runtime, session, client)
    person = w.person.person
    id_number = enrolment_repository.decrypt_id_number(runtime.cipher, person)
    await session.close()
    await w.pharmacy.sign_in()
    made = []
    for _ in range(3):
        answer = await w.pharmacy.call("2102", _sale(person.psn_no, id_number))
        made.append(answer["output"]["setlinfo"])
    late, early, cancelled = (m["setl_id"] for m in made)
    answer = await w.pharmacy.call(
        "2103", {"data": {"setl_id": cancelled, "psn_no": person.psn_no}}
    )
    assert answer["infcode"] == 0, answer
    moments = {
        late: datetime(2026, 11, 30, 15, 59, 59, tzinfo=UTC),  # 23:59:59 on the 30th, Beijing
        early: datetime(2026, 11, 30, 16, 0, 0, tzinfo=UTC),  # 00:00 on 1 December
        cancelled: datetime(2026, 11, 30, 10, 0, 0, tzinfo=UTC),
    }
    async with runtime.sessions() as s:
        for setl_id, moment in moments.items():
            await s.execute(
                update(Settlement).where(Settlement.setl_id == setl_id).values(setl_time=moment)
            )
        await s.commit()
    async with runtime.sessions() as s:
        caller = await service.caller_by_code(s, w.pharmacy.code)
        on_30th = await reconciling.reconcile_totals_in(
            s, runtime.clock, caller, _asked(date(2026, 11, 30), 1), Totals(1, 3000, 0, 0)
        )
        on_1st = await reconciling.reconcile_totals_in(
            s, runtime.clock, caller, _asked(date(2026, 12, 1), 2), Totals(1, 3000, 0, 0)
        )
        await s.commit()
    assert (on_30th.ours.count, on_30th.ours.medfee_sumamt) == (1, 3000)
    assert (on_1st.ours.count, on_1st.ours.medfee_sumamt) == (1, 3000)
    assert on_30th.stmt_rslt == "1"  # the funds' figures were sent as 0
    async with runtime.sessions() as s:
        history = await reconciling.reconciliation_history(s, w.pharmacy.code)
        others = await reconciling.reconciliation_history(s, w.hospital.code)
    assert [r.begin_date for r in history] == [date(2026, 12, 1), date(2026, 11, 30)]
    assert others == []
