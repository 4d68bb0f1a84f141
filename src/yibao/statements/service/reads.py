"""Read models of the person's own account: overview, 消费记录, the statement (缴费记录 is in
`contributions.py`).

Read-only use cases: each takes the person id from the caller's principal, never from a URL, so
one person never reads another's records. Nothing here writes, so nothing commits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment.domain import INSUTYPE_NAMES, UnknownPerson
from yibao.enrolment.tables import Region
from yibao.identity.repository import CallerCheck, CheckedCaller
from yibao.kernel.clock import Clock, china_today
from yibao.kernel.errors import NotFound
from yibao.ledger import repository as ledger_repository
from yibao.ledger.domain import NoPersonalAccount
from yibao.settlement.tables import Settlement, SettlementItem
from yibao.statements import repository
from yibao.statements.domain import (
    MAX_STATEMENT_DAYS,
    ConsumptionFilter,
    ConsumptionKind,
    Cursor,
    DayRange,
    InvalidFilter,
    MonthlyTotal,
    Statement,
    StatementLine,
    consumption_kind_of,
    day_range,
    institution_type,
    last_months,
    month_start_utc,
    next_month,
)

CHART_MONTHS = 12


class UnknownSettlement(NotFound):
    code = "unknown_settlement"


@dataclass(frozen=True, slots=True)
class Overview:
    person_name: str
    psn_no: str
    has_account: bool
    balance_fen: int
    account_status: str | None
    year: int
    year_credited_fen: int
    year_spent_fen: int
    insutype: str | None
    psn_type: str | None
    enrolment_status: str | None
    region_name: str | None
    admdvs: str | None
    employer_name: str | None
    as_of: datetime
    last_entry_at: datetime | None
    monthly: list[MonthlyTotal]


@dataclass(frozen=True, slots=True)
class ConsumptionRecord:
    entry_id: int
    at: datetime
    kind: ConsumptionKind
    account_change_fen: int  # what this entry did to the balance (debits negative)
    institution_name: str
    institution_code: str | None
    institution_type: str | None  # H | P
    setl_id: str | None
    beneficiary_name: str | None  # whom a family payment was for
    med_type: str | None = None
    total_fen: int | None = None
    fund_fen: int | None = None
    account_fen: int | None = None
    mutual_aid_fen: int | None = None
    cash_fen: int | None = None
    settlement_status: str | None = None


@dataclass(frozen=True, slots=True)
class ConsumptionPage:
    records: list[ConsumptionRecord]
    next_cursor: str | None
    matching: int
    hidden: int  # consumption records the filters leave out
    narrowed: list[str]  # which filters differ from the defaults
    filter: ConsumptionFilter


@dataclass(frozen=True, slots=True)
class ConsumptionDetail:
    setl_id: str
    settlement: Settlement | None
    items: list[SettlementItem]
    shares: list[tuple[str, str, int]]  # (payer name, beneficiary name, fen)
    entries: list[ConsumptionRecord]
    patient_name: str | None


async def _account(session: AsyncSession, person_id: int) -> ledger_repository.PersonalAccount:
    account = await ledger_repository.account_for_person(session, person_id)
    if account is None:
        raise NoPersonalAccount("您没有职工医保个人账户（居民医保不设个人账户）")
    return account


def _overview_bounds(
    today: date,
) -> tuple[list[str], tuple[datetime, datetime], list[datetime]]:
    months = last_months(today, CHART_MONTHS)
    year = (
        month_start_utc(f"{today.year:04d}-01"),
        month_start_utc(f"{today.year + 1:04d}-01"),
    )
    return months, year, [month_start_utc(m) for m in [*months, next_month(months[-1])]]


def _overview(
    row: repository.OverviewRow, months: list[str], today: date, now: datetime
) -> Overview:
    return Overview(
        person_name=row.person_name,
        psn_no=row.psn_no,
        has_account=row.account_id is not None,
        balance_fen=row.balance_fen,
        account_status=row.account_status,
        year=today.year,
        year_credited_fen=row.year_credited_fen,
        year_spent_fen=row.year_spent_fen,
        insutype=row.insutype,
        psn_type=row.psn_type,
        enrolment_status=row.enrolment_status,
        region_name=row.region_name,
        admdvs=row.admdvs,
        employer_name=row.employer_name,
        as_of=now,
        last_entry_at=row.last_entry_at,
        monthly=[
            MonthlyTotal(m, spent) for m, spent in zip(months, row.spent_by_month, strict=True)
        ],
    )


async def account_overview(session: AsyncSession, clock: Clock, person_id: int) -> Overview:
    now = clock.now()
    today = china_today(clock)
    months, year, bounds = _overview_bounds(today)
    # The account row's balance is the ledger's running sum, written in the same transaction as
    # every entry (the database refuses anything else), so reading it costs one row, not a scan
    # of the whole history; the rest comes from the same statement, so it agrees with it.
    row = await repository.overview(session, person_id, year=year, month_bounds=bounds)
    if row is None:
        raise UnknownPerson("没有找到参保信息")
    return _overview(row, months, today, now)


async def caller_account_overview(
    session: AsyncSession, clock: Clock, caller: CallerCheck | None
) -> tuple[CheckedCaller, Overview] | None:
    """`account_overview` of the person behind a bearer session, the session checked in the same
    statement (one round trip); None when it is not one `CALLER_CTE` lets through (the caller
    then takes identity's full check)."""
    if caller is None:
        return None
    now = clock.now()
    today = china_today(clock)
    months, year, bounds = _overview_bounds(today)
    found = await repository.overview_for_caller(session, caller, year=year, month_bounds=bounds)
    if found is None:
        return None
    checked, row = found
    return checked, _overview(row, months, today, now)


def _record(entry: repository.EntryDetail, person_id: int) -> ConsumptionRecord:
    """One ledger entry with its settlement's figures and beneficiary (repository.pages)."""
    beneficiary = entry.beneficiary_person_id
    on_behalf = beneficiary is not None and beneficiary != person_id
    code = entry.counterparty_code
    settled = entry.setl_pk is not None
    return ConsumptionRecord(
        entry_id=entry.id,
        at=entry.created_at,
        kind=consumption_kind_of(entry.kind),
        account_change_fen=entry.amount_fen,
        institution_name=entry.counterparty,
        institution_code=code,
        institution_type=entry.fixmedins_type or institution_type(code),
        setl_id=entry.source_id if entry.source_type == "settlement" else None,
        beneficiary_name=entry.beneficiary_name if on_behalf else None,
        med_type=entry.med_type,
        total_fen=entry.medfee_sumamt_fen if settled else None,
        fund_fen=entry.fund_pay_sumamt_fen if settled else None,
        account_fen=entry.acct_pay_fen if settled else None,
        mutual_aid_fen=entry.acct_mulaid_pay_fen if settled else None,
        cash_fen=entry.psn_cash_pay_fen if settled else None,
        settlement_status=entry.setl_status,
    )


def _page(
    found: repository.ConsumptionRows,
    person_id: int,
    clock: Clock,
    wanted: ConsumptionFilter,
    limit: int,
    *,
    counted: bool,
) -> ConsumptionPage:
    has_more = len(found.rows) > limit
    rows = found.rows[:limit]
    default_days = day_range(None, None, china_today(clock))
    next_cursor = Cursor(rows[-1].created_at, rows[-1].id).encode() if has_more else None
    matching = found.matching if counted else 0
    return ConsumptionPage(
        records=[_record(row, person_id) for row in rows],
        next_cursor=next_cursor,
        matching=matching,
        hidden=found.everything - matching if counted else 0,
        narrowed=wanted.narrowed(default_days),
        filter=wanted,
    )


async def consumption_page(
    session: AsyncSession,
    clock: Clock,
    person_id: int,
    wanted: ConsumptionFilter,
    *,
    cursor: str | None,
    limit: int,
    counted: bool = True,
) -> ConsumptionPage:
    after = Cursor.decode(cursor)
    found = await repository.consumption_page(
        session, person_id, wanted, after=after, limit=limit, counted=counted
    )
    if found is None:
        raise NoPersonalAccount("您没有职工医保个人账户（居民医保不设个人账户）")
    return _page(found, person_id, clock, wanted, limit, counted=counted)


async def caller_consumption_page(
    session: AsyncSession,
    clock: Clock,
    caller: CallerCheck | None,
    wanted: ConsumptionFilter,
    *,
    cursor: str | None,
    limit: int,
) -> tuple[CheckedCaller, ConsumptionPage] | None:
    """`consumption_page` of the person behind a bearer session, checked in the same statement
    (see `caller_account_overview`)."""
    if caller is None:
        return None
    after = Cursor.decode(cursor)
    found = await repository.consumption_page_for_caller(
        session, caller, wanted, after=after, limit=limit
    )
    if found is None:
        return None
    checked, rows = found
    if rows is None:
        raise NoPersonalAccount("您没有职工医保个人账户（居民医保不设个人账户）")
    return checked, _page(rows, checked.person_id, clock, wanted, limit, counted=True)


async def all_consumption(
    session: AsyncSession, clock: Clock, person_id: int, wanted: ConsumptionFilter
) -> AsyncIterator[ConsumptionRecord]:
    """Every record the filter matches, page by page (for CSV export)."""
    cursor: str | None = None
    while True:
        page = await consumption_page(
            session, clock, person_id, wanted, cursor=cursor, limit=100, counted=False
        )
        for record in page.records:
            yield record
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


async def consumption_detail(
    session: AsyncSession, person_id: int, setl_id: str
) -> ConsumptionDetail:
    account = await ledger_repository.account_for_person(session, person_id)
    entries = await repository.entries_for_source(session, account.id, setl_id) if account else []
    settlement = await repository.settlement_of_person(session, setl_id, person_id)
    if settlement is None and entries:
        # Paid from this account for a relative: the settlement is the relative's.
        settlement = await repository.settlement_by_setl_id(session, setl_id)
    if settlement is None and not entries:
        raise UnknownSettlement(f"没有找到结算记录 {setl_id}")
    items: list[SettlementItem] = []
    shares: list[tuple[str, str, int]] = []
    patient_name: str | None = None
    if settlement is not None:
        items = await repository.settlement_items_of(session, settlement.id)
        share_rows = await repository.settlement_shares_of(session, settlement.id)
        ids = {settlement.person_id}
        ids |= {r.payer_person_id for r in share_rows}
        ids |= {r.beneficiary_person_id for r in share_rows}
        names = await repository.person_names(session, ids)
        patient_name = names.get(settlement.person_id)
        shares = [
            (
                names.get(r.payer_person_id, ""),
                names.get(r.beneficiary_person_id, ""),
                r.amount_fen,
            )
            for r in share_rows
        ]
    return ConsumptionDetail(
        setl_id=setl_id,
        settlement=settlement,
        items=items,
        shares=shares,
        entries=[_record(entry, person_id) for entry in entries],
        patient_name=patient_name,
    )


async def statement(
    session: AsyncSession, clock: Clock, person_id: int, days: DayRange
) -> Statement:
    if (days.until - days.since).days > MAX_STATEMENT_DAYS:
        raise InvalidFilter("结算单时间范围最长 5 年，请缩小范围")
    person = await enrolment_repository.person(session, person_id)
    if person is None:
        raise UnknownPerson("没有找到参保信息")
    account = await _account(session, person_id)
    enrolment = await enrolment_repository.main_enrolment(session, person_id)
    region = await session.get(Region, enrolment.admdvs) if enrolment else None
    start, end = days.start_utc(), days.end_utc()
    opening = await ledger_repository.balance_before(session, account.id, start)
    entries = await ledger_repository.entries_between(session, account.id, start, end)
    lines = [
        StatementLine(
            at=e.created_at,
            kind=e.kind,
            amount_fen=e.amount_fen,
            balance_after_fen=e.balance_after_fen,
            counterparty=e.counterparty,
            reference=e.source_id,
        )
        for e in entries
    ]
    return Statement(
        person_name=person.name,
        psn_no=person.psn_no,
        id_number_masked=person.id_number_masked,
        insutype=INSUTYPE_NAMES.get(enrolment.insutype) if enrolment else None,
        region_name=region.name if region else None,
        days=days,
        opening_fen=opening,
        closing_fen=lines[-1].balance_after_fen if lines else opening,
        printed_at=clock.now(),
        lines=lines,
    )
