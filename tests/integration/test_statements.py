"""Read models of the person's account on both databases: every figure from the ledger."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.spending import credit, settle
from tests.support.world import define_regions, enrol
from yibao.kernel.clock import FixedClock
from yibao.runtime import Runtime
from yibao.statements import service
from yibao.statements.domain import (
    ConsumptionKind,
    DayRange,
    InvalidFilter,
    Scope,
    parse_consumption_filter,
)
from yibao.statements.pdf import render_statement

NOW = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


def _filter(**kw: str | None) -> object:
    args: dict[str, str | None] = {
        "since": None,
        "until": None,
        "kind": None,
        "institution": None,
        "scope": None,
    }
    args.update(kw)
    return parse_consumption_filter(today=date(2026, 6, 15), **args)  # type: ignore[arg-type]


@pytest.fixture
async def world(runtime: Runtime, session: AsyncSession) -> dict[str, int]:
    runtime.clock = FixedClock(NOW)
    await define_regions(session)
    me = await enrol(runtime, session, name="李明")
    spouse = await enrol(runtime, session, name="张丽", birth=date(1982, 3, 3))
    await credit(session, me.person.id, 50000, NOW - timedelta(days=400), "c-old")
    await settle(
        session,
        me.person.id,
        "S1",
        NOW - timedelta(days=390),
        total_fen=9000,
        fund_fen=0,
        acct_fen=2000,
    )
    await credit(session, me.person.id, 30000, datetime(2026, 1, 10, tzinfo=UTC), "c-jan")
    await credit(session, spouse.person.id, 20000, datetime(2026, 1, 10, tzinfo=UTC), "c-sp")
    await settle(
        session,
        me.person.id,
        "S2",
        datetime(2026, 3, 5, 3, tzinfo=UTC),
        total_fen=20000,
        fund_fen=12000,
        acct_fen=6000,
    )
    await settle(
        session,
        me.person.id,
        "S3",
        datetime(2026, 5, 20, 3, tzinfo=UTC),
        total_fen=5000,
        fund_fen=0,
        acct_fen=4550,
        code="P31010500631",
        name="老百姓大药房",
        med_type="41",
    )
    # The spouse's settlement, partly paid from my account through 家庭共济.
    await settle(
        session,
        spouse.person.id,
        "S4",
        datetime(2026, 6, 1, 3, tzinfo=UTC),
        total_fen=8000,
        fund_fen=0,
        acct_fen=5000,
        payer_person_id=me.person.id,
        aid_fen=1500,
    )
    return {"me": me.person.id, "spouse": spouse.person.id}


async def test_overview_adds_up_from_the_ledger(
    runtime: Runtime, session: AsyncSession, world: dict[str, int]
) -> None:
    overview = await service.account_overview(session, runtime.clock, world["me"])
    assert overview.balance_fen == 50000 + 30000 - 2000 - 6000 - 4550 - 1500
    assert overview.year == 2026
    assert overview.year_credited_fen == 30000
    assert overview.year_spent_fen == 6000 + 4550 + 1500
    assert overview.insutype == "310" and overview.region_name == "上海市"
    assert overview.employer_name == "测试单位有限公司"
    assert overview.as_of == NOW
    by_month = {m.month: m.spent_fen for m in overview.monthly}
    assert len(overview.monthly) == 12 and overview.monthly[-1].month == "2026-06"
    assert (
        by_month["2026-03"] == 6000 and by_month["2026-05"] == 4550 and by_month["2026-06"] == 1500
    )
    assert by_month["2026-04"] == 0


async def test_consumption_filters_pages_and_hidden_hint(
    runtime: Runtime, session: AsyncSession, world: dict[str, int]
) -> None:
    page = await service.consumption_page(
        session, runtime.clock, world["me"], _filter(), cursor=None, limit=2
    )  # type: ignore[arg-type]
    # Default window: the last 12 months, newest first; S1 is older and hidden.
    assert [r.setl_id for r in page.records] == ["S4", "S3"]
    assert page.matching == 3 and page.hidden == 1 and page.narrowed == []
    family = page.records[0]
    assert family.kind == ConsumptionKind.MUTUAL_AID and family.beneficiary_name == "张丽"
    assert family.account_change_fen == -1500 and family.mutual_aid_fen == 1500
    pharmacy = page.records[1]
    assert (
        pharmacy.institution_type == "P" and pharmacy.med_type == "41" and pharmacy.cash_fen == 450
    )
    second = await service.consumption_page(
        session,
        runtime.clock,
        world["me"],
        _filter(),
        cursor=page.next_cursor,
        limit=2,  # type: ignore[arg-type]
    )
    assert [r.setl_id for r in second.records] == ["S2"] and second.next_cursor is None
    wide = await service.consumption_page(
        session, runtime.clock, world["me"], _filter(since="2024-01-01"), cursor=None, limit=10
    )  # type: ignore[arg-type]
    assert [r.setl_id for r in wide.records] == ["S4", "S3", "S2", "S1"] and wide.hidden == 0
    assert wide.narrowed == ["时间范围"]
    own = await service.consumption_page(
        session, runtime.clock, world["me"], _filter(scope="self"), cursor=None, limit=10
    )  # type: ignore[arg-type]
    assert [r.setl_id for r in own.records] == ["S3", "S2"] and own.hidden == 2
    fam = await service.consumption_page(
        session, runtime.clock, world["me"], _filter(scope="family"), cursor=None, limit=10
    )  # type: ignore[arg-type]
    assert [r.setl_id for r in fam.records] == ["S4"]
    shop = await service.consumption_page(
        session, runtime.clock, world["me"], _filter(institution="大药房"), cursor=None, limit=10
    )  # type: ignore[arg-type]
    assert [r.setl_id for r in shop.records] == ["S3"]
    by_code = await service.consumption_page(
        session,
        runtime.clock,
        world["me"],
        _filter(institution="h31010400012"),
        cursor=None,
        limit=10,
    )  # type: ignore[arg-type]
    assert [r.setl_id for r in by_code.records] == ["S4", "S2"]
    kind = await service.consumption_page(
        session, runtime.clock, world["me"], _filter(kind="mutual_aid"), cursor=None, limit=10
    )  # type: ignore[arg-type]
    assert [r.setl_id for r in kind.records] == ["S4"]


def test_bad_filters_say_what_is_wrong() -> None:
    with pytest.raises(InvalidFilter, match="开始日期"):
        _filter(since="2026-13-01")
    with pytest.raises(InvalidFilter, match="不能晚于"):
        _filter(since="2026-06-01", until="2026-05-01")
    with pytest.raises(InvalidFilter, match="消费类型"):
        _filter(kind="gambling")
    with pytest.raises(InvalidFilter, match="范围"):
        _filter(scope="neighbours")
    assert _filter(scope="family").scope == Scope.FAMILY  # type: ignore[attr-defined]


async def test_bad_cursor_is_refused_in_words(
    runtime: Runtime, session: AsyncSession, world: dict[str, int]
) -> None:
    with pytest.raises(InvalidFilter, match="翻页参数"):
        await service.consumption_page(
            session, runtime.clock, world["me"], _filter(), cursor="not-a-cursor", limit=5
        )  # type: ignore[arg-type]


async def test_detail_is_scoped_to_the_person(
    runtime: Runtime, session: AsyncSession, world: dict[str, int]
) -> None:
    detail = await service.consumption_detail(session, world["me"], "S2")
    assert detail.settlement is not None and detail.settlement.medfee_sumamt_fen == 20000
    assert [i.chrgitm_lv for i in detail.items] == ["01", "02"]
    # I paid part of my spouse's bill: I can see that settlement, and who paid for whom.
    aid = await service.consumption_detail(session, world["me"], "S4")
    assert aid.patient_name == "张丽" and aid.shares == [("李明", "张丽", 1500)]
    # The spouse's own S4 is theirs too; but my S2 is not the spouse's.
    with pytest.raises(service.UnknownSettlement):
        await service.consumption_detail(session, world["spouse"], "S2")
    with pytest.raises(service.UnknownSettlement):
        await service.consumption_detail(session, world["me"], "NOPE")


async def test_contribution_history_flags_gaps(runtime: Runtime, session: AsyncSession) -> None:
    from tests.support.world import new_id_number
    from yibao.contributions import service as contributions

    runtime.clock = FixedClock(NOW)
    await define_regions(session)
    id_number = new_id_number(birth=date(1979, 1, 2))
    me = await enrol(runtime, session, id_number=id_number)
    rows = [
        (
            i,
            contributions.ContributionRow(
                id_number=id_number,
                month=m,
                base="8000.00",
                employer_amount="720.00",
                personal_amount="160.00",
                arrived_on=date(2026, int(m[5:]), 15) if m != "2026-02" else date(2026, 5, 20),
            ),
        )
        for i, m in enumerate(["2026-01", "2026-02", "2026-04", "2026-05"], start=1)
    ]
    report = await contributions.import_contributions(session, runtime.cipher, runtime.clock, rows)
    assert not report.errors
    history = await service.contribution_history(session, runtime.clock, me.person.id)
    assert [m.month for m in history.months] == [
        "2026-05",
        "2026-04",
        "2026-03",
        "2026-02",
        "2026-01",
    ]
    statuses = {m.month: m.status for m in history.months}
    assert (
        statuses["2026-03"] == "gap"
        and statuses["2026-02"] == "backpaid"
        and statuses["2026-01"] == "normal"
    )
    assert history.owing_months == ["2026-03"]
    assert history.credited_fen == 4 * 16000
    narrow = await service.contribution_history(
        session, runtime.clock, me.person.id, since="2026-04", until="2026-05"
    )
    assert len(narrow.months) == 2 and narrow.hidden == 3


async def test_statement_pdf_lists_opening_entries_closing(
    runtime: Runtime, session: AsyncSession, world: dict[str, int]
) -> None:
    days = DayRange(date(2026, 1, 1), date(2026, 6, 15))
    statement = await service.statement(session, runtime.clock, world["me"], days)
    assert statement.opening_fen == 50000 - 2000
    assert [line.amount_fen for line in statement.lines] == [30000, -6000, -4550, -1500]
    assert statement.closing_fen == statement.opening_fen + sum(
        line.amount_fen for line in statement.lines
    )
    pdf = render_statement(statement)
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
    assert "医疗保险个人账户结算单" in text
    assert "期初余额" in text and "480.00" in text
    assert "期末余额" in text and "659.50" in text
    assert "老百姓大药房" in text and "家庭共济支付" in text and "-45.50" in text
    assert "李明" in text
