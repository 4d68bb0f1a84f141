"""3201 医药机构费用结算对总账 and 3202 医药机构费用结算对明细账.

3201 sends the period's count and sums for one insurance type (and settlement class); yibao sums
its own in one query and answers 平 (stmt_rslt 0) or 不平 (1). 3202 names the detail file the
institution uploaded with 9101 (file_qury_no): yibao compares it line by line and answers a
result file, fetched with 9102, with a line per difference (and the first lines inline).
"""

from __future__ import annotations

from typing import Any

from yibao.files import service as files
from yibao.fsi.call import Call, Reply
from yibao.fsi.envelope import Fields, InvalidMessage, wall_time, yuan
from yibao.fsi.handlers.reading import data_or_input, day
from yibao.settlement.reconciliation import (
    DIFFERENCE_CODES,
    Totals,
    read_detail_file,
    result_file,
    result_line,
)
from yibao.settlement.service import reconciling
from yibao.settlement.service.reconciling import Asked

INLINE_LINES = 100  # differences answered inline; all of them are in the result file


def _count(fields: Fields, name: str) -> int:
    value = fields.raw(name)
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not text.isascii() or not text.isdigit() or len(text) > 10:
        raise InvalidMessage(f"{fields.where}.{name} 应为非负整数（结算笔数）")
    return int(text)


def _asked(call: Call, fields: Fields, *, insutype_required: bool) -> Asked:
    begin = day(fields, "stmt_begndate")
    end = day(fields, "stmt_enddate")
    if begin is None:
        raise InvalidMessage(f"{fields.where}.stmt_begndate 缺失")
    if end is None:
        raise InvalidMessage(f"{fields.where}.stmt_enddate 缺失")
    insutype = fields.code("insutype", required=insutype_required, max_len=6) or None
    envelope = call.envelope
    return Asked(
        msgid=envelope.msgid,
        opter=envelope.opter,
        opter_name=envelope.opter_name,
        setl_optins=fields.code("setl_optins", required=False, max_len=20) or call.caller.admdvs,
        begin=begin,
        end=end,
        insutype=insutype,
        clr_type=fields.code("clr_type", required=False, max_len=6) or None,
        where=fields.where,
    )


async def totals(call: Call) -> Reply:
    """3201."""
    fields = data_or_input(call)
    asked = _asked(call, fields, insutype_required=True)
    theirs = Totals(
        _count(fields, "fixmedins_setl_cnt"),
        fields.yuan("medfee_sumamt"),
        fields.yuan("fund_pay_sumamt"),
        fields.yuan("acct_pay"),
    )
    answer = await reconciling.reconcile_totals_in(
        call.session, call.runtime.clock, call.caller, asked, theirs
    )
    return Reply(
        {
            "stmtinfo": {
                "setl_optins": asked.setl_optins,
                "stmt_rslt": answer.stmt_rslt,
                "stmt_rslt_dscr": answer.description,
            }
        }
    )


async def details(call: Call) -> Reply:
    """3202."""
    fields = data_or_input(call)
    asked = _asked(call, fields, insutype_required=False)
    sent = Totals(
        _count(fields, "fixmedins_setl_cnt"),
        fields.yuan("medfee_sumamt"),
        fields.yuan("fund_pay_sumamt"),
        0,
    )
    if fields.raw("cash_payamt") not in (None, ""):
        fields.yuan("cash_payamt")  # checked, kept by no one: the detail file has no cash column
    clock = call.runtime.clock
    upload = await files.fetch(
        call.session,
        clock,
        fixmedins_code=call.caller.fixmedins_code,
        file_qury_no=fields.code("file_qury_no", max_len=64),
    )
    theirs = read_detail_file(upload.content)
    answer = await reconciling.reconcile_details_in(
        call.session, clock, call.caller, asked, theirs, sent=sent
    )
    lines = [
        result_line(
            d, answer.ours.made_by[d.setl_id][1] if d.setl_id in answer.ours.made_by else None
        )
        for d in answer.result.differences
    ]
    stamp = f"{asked.begin:%Y%m%d}_{asked.end:%Y%m%d}"
    name = f"3202_{call.caller.fixmedins_code}_{stamp}"
    stored = await files.keep_file(
        call.session,
        clock,
        fixmedins_code=call.caller.fixmedins_code,
        filename=f"{name}.txt.zip",
        content=result_file(f"{name}.txt", lines),
        origin="download",
        ttl_hours=call.runtime.settings.fsi_file_ttl_hours,
    )
    await reconciling.attach_result_file_in(
        call.session, answer.reconciliation_id, stored.file_qury_no
    )
    stmt_rslt = "0" if answer.result.matches else "1"
    output: dict[str, Any] = {
        "fileinfo": {
            "file_qury_no": stored.file_qury_no,
            "filename": stored.filename,
            "dld_endtime": wall_time(stored.expires_at),
        },
        "stmtinfo": {
            "setl_optins": asked.setl_optins,
            "stmt_rslt": stmt_rslt,
            "stmt_rslt_dscr": answer.description,
            "diff_cnt": len(lines),
            "confirmed_cnt": len(answer.confirmed),
        },
        "detail": [
            {
                "psn_no": line[0],
                "mdtrt_id": line[1],
                "setl_id": d.setl_id,
                "msgid": line[3],
                "stmt_rslt": DIFFERENCE_CODES[d.kind],
                "memo": d.memo,
                "medfee_sumamt": yuan(d.ours.medfee_sumamt) if d.ours else None,
                "fund_pay_sumamt": yuan(d.ours.fund_pay_sumamt) if d.ours else None,
                "acct_pay": yuan(d.ours.acct_pay) if d.ours else None,
            }
            for d, line in zip(answer.result.differences[:INLINE_LINES], lines, strict=False)
        ],
        "confirmed": answer.confirmed[:INLINE_LINES],
    }
    return Reply(output)
