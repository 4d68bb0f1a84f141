"""JSON API of the person's own account under /api/v1: the same read models as the pages.

Amounts are yuan strings with two decimals. The person comes from the principal (bearer token),
never from the path: another person's `setl_id` is simply not found (404).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from yibao.kernel.clock import china_today
from yibao.kernel.errors import DomainError
from yibao.kernel.money import format_yuan
from yibao.statements import service as statements
from yibao.statements.domain import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    day_range,
    page_size,
    parse_consumption_filter,
    parse_day,
)
from yibao.statements.pdf import render_statement
from yibao.web.auth import SteppedUpPersonDep
from yibao.web.caller import CallerDep
from yibao.web.deps import RuntimeDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["个人账户 account"])

Yuan = Annotated[str, Field(pattern=r"^-?\d+\.\d{2}$", examples=["123.45"])]


def _yuan(fen: int | None) -> str | None:
    return None if fen is None else format_yuan(fen)


class MonthlySpending(BaseModel):
    month: str = Field(examples=["2026-05"])
    spent: Yuan


class AccountOut(BaseModel):
    psn_no: str
    name: str
    has_account: bool
    balance: Yuan = Field(description="账户余额: the sum of the ledger entries")
    account_status: str | None = Field(description="active | frozen")
    year: int
    year_credited: Yuan
    year_spent: Yuan
    insutype: str | None
    psn_type: str | None
    psn_insu_stas: str | None
    insuplc_admdvs: str | None
    region_name: str | None
    emp_name: str | None
    as_of: datetime = Field(description="数据更新于: when these figures were read")
    last_entry_at: datetime | None
    monthly_spending: list[MonthlySpending]


class ContributionOut(BaseModel):
    month: str = Field(description="费款所属期 YYYY-MM")
    status: str = Field(
        description="normal | arrears | backpaid | gap (a month with no record: 欠费)"
    )
    base: Yuan | None
    employer_amount: Yuan | None
    personal_amount: Yuan | None
    credited: Yuan | None = Field(description="划入金额")
    arrived_on: date | None


class ContributionsOut(BaseModel):
    since: str
    until: str
    credited_total: Yuan
    owing_months: list[str]
    hidden: int = Field(description="months outside the chosen range")
    items: list[ContributionOut]


class ConsumptionOut(BaseModel):
    entry_id: int
    time: datetime
    kind: str = Field(description="settlement | mutual_aid | relative_contribution | refund")
    account_change: Yuan = Field(description="what this entry did to the balance")
    fixmedins_name: str
    fixmedins_code: str | None
    fixmedins_type: str | None = Field(description="H hospital | P pharmacy")
    setl_id: str | None
    beneficiary_name: str | None = Field(description="the relative a family payment was for")
    med_type: str | None
    medfee_sumamt: Yuan | None
    fund_pay_sumamt: Yuan | None
    acct_pay: Yuan | None
    acct_mulaid_pay: Yuan | None
    psn_cash_pay: Yuan | None
    status: str | None


class ConsumptionPageOut(BaseModel):
    since: date
    until: date
    matching: int
    hidden: int = Field(description="consumption records the filters leave out")
    next_cursor: str | None = Field(description="pass as `cursor` for the next page")
    items: list[ConsumptionOut]


class ItemOut(BaseModel):
    feedetl_sn: str
    med_list_codg: str
    med_list_name: str
    chrgitm_lv: str = Field(description="01 甲类 | 02 乙类 | 03 丙类")
    pric: Yuan
    cnt: str
    det_item_fee_sumamt: Yuan


class ShareOut(BaseModel):
    payer_name: str
    beneficiary_name: str
    amount: Yuan


class ConsumptionDetailOut(BaseModel):
    setl_id: str
    patient_name: str | None
    fixmedins_name: str | None
    fixmedins_code: str | None
    med_type: str | None
    setl_time: datetime | None
    status: str | None
    medfee_sumamt: Yuan | None
    fund_pay_sumamt: Yuan | None
    acct_pay: Yuan | None
    acct_mulaid_pay: Yuan | None
    psn_cash_pay: Yuan | None
    items: list[ItemOut]
    mutual_aid: list[ShareOut]
    entries: list[ConsumptionOut]


# The serialisers: the person's own view, in full. The partner API (web/open/views.py) answers
# the same figures through these, keeping only its own models' fields and masking names.


def consumption_out(record: statements.ConsumptionRecord) -> ConsumptionOut:
    return ConsumptionOut(
        entry_id=record.entry_id,
        time=record.at,
        kind=record.kind.value,
        account_change=format_yuan(record.account_change_fen),
        fixmedins_name=record.institution_name,
        fixmedins_code=record.institution_code,
        fixmedins_type=record.institution_type,
        setl_id=record.setl_id,
        beneficiary_name=record.beneficiary_name,
        med_type=record.med_type,
        medfee_sumamt=_yuan(record.total_fen),
        fund_pay_sumamt=_yuan(record.fund_fen),
        acct_pay=_yuan(record.account_fen),
        acct_mulaid_pay=_yuan(record.mutual_aid_fen),
        psn_cash_pay=_yuan(record.cash_fen),
        status=record.settlement_status,
    )


def account_out(view: statements.Overview) -> AccountOut:
    return AccountOut(
        psn_no=view.psn_no,
        name=view.person_name,
        has_account=view.has_account,
        balance=format_yuan(view.balance_fen),
        account_status=view.account_status,
        year=view.year,
        year_credited=format_yuan(view.year_credited_fen),
        year_spent=format_yuan(view.year_spent_fen),
        insutype=view.insutype,
        psn_type=view.psn_type,
        psn_insu_stas=view.enrolment_status,
        insuplc_admdvs=view.admdvs,
        region_name=view.region_name,
        emp_name=view.employer_name,
        as_of=view.as_of,
        last_entry_at=view.last_entry_at,
        monthly_spending=[
            MonthlySpending(month=m.month, spent=format_yuan(m.spent_fen)) for m in view.monthly
        ],
    )


def contributions_out(history: statements.ContributionHistory) -> ContributionsOut:
    return ContributionsOut(
        since=history.since,
        until=history.until,
        credited_total=format_yuan(history.credited_fen),
        owing_months=history.owing_months,
        hidden=history.hidden,
        items=[
            ContributionOut(
                month=m.month,
                status=m.status,
                base=_yuan(m.base_fen),
                employer_amount=_yuan(m.employer_fen),
                personal_amount=_yuan(m.personal_fen),
                credited=_yuan(m.credited_fen),
                arrived_on=m.arrived_on,
            )
            for m in history.months
        ],
    )


def consumption_detail_out(detail: statements.ConsumptionDetail) -> ConsumptionDetailOut:
    s = detail.settlement
    return ConsumptionDetailOut(
        setl_id=detail.setl_id,
        patient_name=detail.patient_name,
        fixmedins_name=s.fixmedins_name if s else None,
        fixmedins_code=s.fixmedins_code if s else None,
        med_type=s.med_type if s else None,
        setl_time=s.setl_time if s else None,
        status=s.status if s else None,
        medfee_sumamt=_yuan(s.medfee_sumamt_fen if s else None),
        fund_pay_sumamt=_yuan(s.fund_pay_sumamt_fen if s else None),
        acct_pay=_yuan(s.acct_pay_fen if s else None),
        acct_mulaid_pay=_yuan(s.acct_mulaid_pay_fen if s else None),
        psn_cash_pay=_yuan(s.psn_cash_pay_fen if s else None),
        items=[
            ItemOut(
                feedetl_sn=i.feedetl_sn,
                med_list_codg=i.med_list_codg,
                med_list_name=i.med_list_name,
                chrgitm_lv=i.chrgitm_lv,
                pric=format_yuan(i.pric_fen),
                cnt=str(i.cnt),
                det_item_fee_sumamt=format_yuan(i.det_item_fee_sumamt_fen),
            )
            for i in detail.items
        ],
        mutual_aid=[
            ShareOut(payer_name=p, beneficiary_name=b, amount=format_yuan(f))
            for p, b, f in detail.shares
        ],
        entries=[consumption_out(e) for e in detail.entries],
    )


@router.get("/account", response_model=AccountOut, summary="账户概览 overview")
async def account(caller: CallerDep, runtime: RuntimeDep) -> AccountOut:
    # The bearer session is checked in the overview's own statement (web/caller.py).
    found = await statements.caller_account_overview(caller.session, runtime.clock, caller.check)
    if found is not None:
        await caller.confirm(found[0])
        return account_out(found[1])
    person = await caller.principal()
    return account_out(
        await statements.account_overview(caller.session, runtime.clock, person.person_id)
    )


@router.get("/contributions", response_model=ContributionsOut, summary="缴费记录")
async def contributions(
    person: SteppedUpPersonDep,
    session: SessionDep,
    runtime: RuntimeDep,
    since: Annotated[str | None, Query(description="first month YYYY-MM")] = None,
    until: Annotated[str | None, Query(description="last month YYYY-MM")] = None,
) -> ContributionsOut:
    history = await statements.contribution_history(
        session, runtime.clock, person.person_id, since=since, until=until
    )
    return contributions_out(history)


@router.get("/consumption", response_model=ConsumptionPageOut, summary="消费记录")
async def consumption(
    caller: CallerDep,
    runtime: RuntimeDep,
    since: Annotated[str | None, Query(description="YYYY-MM-DD; default 12 months back")] = None,
    until: Annotated[str | None, Query(description="YYYY-MM-DD; default today")] = None,
    kind: Annotated[
        str | None, Query(description="settlement | mutual_aid | relative_contribution | refund")
    ] = None,
    institution: Annotated[
        str | None, Query(description="institution code or part of its name")
    ] = None,
    scope: Annotated[str | None, Query(description="all | self | family")] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> ConsumptionPageOut:
    rows = page_size(limit)
    clock = runtime.clock
    try:
        wanted = parse_consumption_filter(
            since=since,
            until=until,
            kind=kind,
            institution=institution,
            scope=scope,
            today=china_today(clock),
        )
        # The bearer session is checked in the page's own statement (web/caller.py).
        found = await statements.caller_consumption_page(
            caller.session, clock, caller.check, wanted, cursor=cursor, limit=rows
        )
    except DomainError:
        # A wrong filter or cursor, or no account: who is asking is answered first, as on
        # every other route.
        await caller.principal()
        raise
    if found is not None:
        await caller.confirm(found[0])
        page = found[1]
    else:
        person = await caller.principal()
        page = await statements.consumption_page(
            caller.session, clock, person.person_id, wanted, cursor=cursor, limit=rows
        )
    return ConsumptionPageOut(
        since=wanted.days.since,
        until=wanted.days.until,
        matching=page.matching,
        hidden=page.hidden,
        next_cursor=page.next_cursor,
        items=[consumption_out(r) for r in page.records],
    )


@router.get(
    "/consumption/{setl_id}",
    response_model=ConsumptionDetailOut,
    summary="消费明细 one settlement with its items",
    responses={404: {"description": "no such settlement for this person"}},
)
async def consumption_detail(
    setl_id: str, person: SteppedUpPersonDep, session: SessionDep
) -> ConsumptionDetailOut:
    return consumption_detail_out(
        await statements.consumption_detail(session, person.person_id, setl_id)
    )


@router.get(
    "/statement.pdf",
    summary="《医疗保险个人账户结算单》 PDF",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def statement_pdf(
    person: SteppedUpPersonDep,
    session: SessionDep,
    runtime: RuntimeDep,
    since: Annotated[str | None, Query(description="YYYY-MM-DD; default 12 months back")] = None,
    until: Annotated[str | None, Query(description="YYYY-MM-DD; default today")] = None,
) -> Response:
    days = day_range(
        parse_day(since, "开始日期"), parse_day(until, "结束日期"), china_today(runtime.clock)
    )
    statement = await statements.statement(session, runtime.clock, person.person_id, days)
    name = quote(f"医疗保险个人账户结算单_{days.since}_{days.until}.pdf")
    return Response(
        render_statement(statement),
        media_type="application/pdf",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )
