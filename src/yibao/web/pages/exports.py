"""Downloads: CSV of any filtered list, and the 《医疗保险个人账户结算单》 PDF for a period."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import Response

from yibao.kernel.clock import china_today, to_china
from yibao.kernel.money import format_yuan
from yibao.statements import service as statements
from yibao.statements.domain import (
    CONSUMPTION_KIND_NAMES,
    CONTRIBUTION_STATUS_NAMES,
    INSTITUTION_TYPE_NAMES,
    MED_TYPE_NAMES,
    day_range,
    parse_consumption_filter,
    parse_day,
)
from yibao.statements.pdf import render_statement
from yibao.web.auth import SteppedUpPersonDep
from yibao.web.deps import RuntimeDep, SessionDep

router = APIRouter(include_in_schema=False)


def _yuan(fen: int | None) -> str:
    return "" if fen is None else format_yuan(fen)


def _line(values: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue()


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"}


@router.get("/account/consumption.csv")
async def consumption_csv(
    person: SteppedUpPersonDep,
    session: SessionDep,
    runtime: RuntimeDep,
    since: str | None = None,
    until: str | None = None,
    kind: str | None = None,
    institution: str | None = None,
    scope: str | None = None,
) -> Response:
    wanted = parse_consumption_filter(
        since=since,
        until=until,
        kind=kind,
        institution=institution,
        scope=scope,
        today=china_today(runtime.clock),
    )
    # Gathered before answering: the session closes with the request, not with the download.
    lines = [
        "\ufeff"  # a BOM, so spreadsheet programs open the Chinese text as UTF-8
        + _line(
            [
                "时间",
                "类型",
                "机构名称",
                "机构编码",
                "机构类别",
                "医疗类别",
                "结算号",
                "账户变动(元)",
                "总费用(元)",
                "统筹基金支付(元)",
                "个人账户支付(元)",
                "共济支付(元)",
                "现金支付(元)",
                "代付对象",
            ]
        )
    ]
    async for record in statements.all_consumption(
        session, runtime.clock, person.person_id, wanted
    ):
        lines.append(
            _line(
                [
                    to_china(record.at).strftime("%Y-%m-%d %H:%M:%S"),
                    CONSUMPTION_KIND_NAMES[record.kind],
                    record.institution_name,
                    record.institution_code or "",
                    INSTITUTION_TYPE_NAMES.get(record.institution_type or "", ""),
                    MED_TYPE_NAMES.get(record.med_type or "", ""),
                    record.setl_id or "",
                    _yuan(record.account_change_fen),
                    _yuan(record.total_fen),
                    _yuan(record.fund_fen),
                    _yuan(record.account_fen),
                    _yuan(record.mutual_aid_fen),
                    _yuan(record.cash_fen),
                    record.beneficiary_name or "",
                ]
            )
        )
    name = f"消费记录_{wanted.days.since}_{wanted.days.until}.csv"
    return Response("".join(lines), media_type="text/csv; charset=utf-8", headers=_attachment(name))


@router.get("/account/contributions.csv")
async def contributions_csv(
    person: SteppedUpPersonDep,
    session: SessionDep,
    runtime: RuntimeDep,
    since: str | None = None,
    until: str | None = None,
) -> Response:
    history = await statements.contribution_history(
        session, runtime.clock, person.person_id, since=since or None, until=until or None
    )
    lines = [
        "\ufeff"
        + _line(["费款所属期", "缴费基数(元)", "单位缴费(元)", "个人缴费(元)", "划入金额(元)", "到账日期", "状态"])
    ]  # fmt: skip
    for month in history.months:
        lines.append(
            _line(
                [
                    month.month,
                    _yuan(month.base_fen),
                    _yuan(month.employer_fen),
                    _yuan(month.personal_fen),
                    _yuan(month.credited_fen),
                    month.arrived_on.isoformat() if month.arrived_on else "",
                    CONTRIBUTION_STATUS_NAMES[month.status],
                ]
            )
        )
    name = f"缴费记录_{history.since}_{history.until}.csv"
    return Response("".join(lines), media_type="text/csv; charset=utf-8", headers=_attachment(name))


@router.get("/account/statement.pdf")
async def statement_pdf(
    person: SteppedUpPersonDep,
    session: SessionDep,
    runtime: RuntimeDep,
    since: str | None = None,
    until: str | None = None,
) -> Response:
    days = day_range(
        parse_day(since, "开始日期"), parse_day(until, "结束日期"), china_today(runtime.clock)
    )
    statement = await statements.statement(session, runtime.clock, person.person_id, days)
    name = f"医疗保险个人账户结算单_{days.since}_{days.until}.pdf"
    return Response(
        render_statement(statement), media_type="application/pdf", headers=_attachment(name)
    )
