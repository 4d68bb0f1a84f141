"""消费记录 on an account with 10,000 entries: keyset pages stay fast and use the account index."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.world import define_regions, enrol
from yibao.kernel.clock import FixedClock
from yibao.ledger import repository as ledger_repository
from yibao.ledger.tables import LedgerEntry
from yibao.runtime import Runtime
from yibao.statements import repository, service
from yibao.statements.domain import Cursor, parse_consumption_filter

NOW = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)
ENTRIES = 10_000


async def _busy_account(runtime: Runtime, session: AsyncSession, name: str, birth: date) -> int:
    person = await enrol(runtime, session, name=name, birth=birth)
    account = await ledger_repository.account_for_person(session, person.person.id)
    assert account is not None
    start = NOW - timedelta(days=360)
    step = timedelta(days=360) / ENTRIES
    balance = 10_000_000
    rows = [
        {
            "account_id": account.id, "kind": "contribution_credit", "amount_fen": balance,
            "balance_after_fen": balance, "idempotency_key": f"seed:{account.id}",
            "counterparty": "单位", "created_at": start - timedelta(days=1),
        }
    ]  # fmt: skip
    for i in range(ENTRIES - 1):
        balance -= 100
        rows.append(
            {
                "account_id": account.id, "kind": "settlement_debit", "amount_fen": -100,
                "balance_after_fen": balance, "idempotency_key": f"setl:{account.id}:{i}:own",
                "counterparty": "老百姓大药房" if i % 3 else "上海市第一人民医院",
                "counterparty_code": "P31010500631" if i % 3 else "H31010400012",
                "source_type": "settlement", "source_id": f"{account.id}-{i}",
                "created_at": start + step * i,
            }
        )  # fmt: skip
    for chunk in range(0, len(rows), 2000):
        await session.execute(insert(LedgerEntry), rows[chunk : chunk + 2000])
    await session.commit()
    return person.person.id


async def test_ten_thousand_entries_page_fast_on_the_index(
    runtime: Runtime, session: AsyncSession, backend: str
) -> None:
    runtime.clock = FixedClock(NOW)
    await define_regions(session)
    me = await _busy_account(runtime, session, "李明", date(1980, 1, 1))
    await _busy_account(runtime, session, "王芳", date(1981, 2, 2))
    if backend == "postgres":
        await session.execute(text("ANALYZE ledger_entries"))
    wanted = parse_consumption_filter(
        since=None, until=None, kind=None, institution=None, scope=None, today=date(2026, 6, 15)
    )
    seen = 0
    cursor = None
    timings = []
    while True:
        began = time.perf_counter()
        page = await service.consumption_page(
            session, runtime.clock, me, wanted, cursor=cursor, limit=100
        )
        timings.append(time.perf_counter() - began)
        seen += len(page.records)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ENTRIES - 1 and page.matching == ENTRIES - 1
    # The last page costs what the first does (keyset, not offset); generous for a shared CI box.
    # Medians, and bounds loose enough for a shared two-core box running other suites.
    first, last = sorted(timings[:9])[4], sorted(timings[-9:])[4]
    assert last < 3 * first + 0.05, timings
    assert max(timings) < 2.0, timings
    if backend == "postgres":
        account = await ledger_repository.account_for_person(session, me)
        assert account is not None
        deep = Cursor(NOW - timedelta(days=300), 10**9)
        sql, params = repository.consumption_page_sql(account.id, me, wanted, after=deep, limit=100)
        raw = await (await session.connection()).get_raw_connection()
        explained = await raw.driver_connection.fetch(
            "EXPLAIN ANALYZE " + sql.pg_text, *[params[name] for name in sql.order]
        )
        plan = "\n".join(row[0] for row in explained)
        print(plan, "\npage timings ms:", [round(t * 1000, 1) for t in timings[:3]], "…",
              [round(t * 1000, 1) for t in timings[-3:]])  # fmt: skip
        assert "ix_ledger_entries_account_created" in plan, plan
        assert "Sort" not in plan and "Seq Scan" not in plan, plan
        # The cursor bounds the index range: a deep page does not wade through the newer rows.
        index_cond = next(line for line in plan.splitlines() if "Index Cond" in line)
        assert "created_at <= " in index_cond, plan
        assert "Rows Removed by Filter: 8" not in plan, plan
