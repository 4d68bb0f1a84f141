"""Outpatient transactions of hospitals: 2201 挂号, 2204 费用明细上传, 2206 预结算, 2207 结算,
2208 结算撤销, and how 2601 冲正 undoes a registration, an upload or a settlement."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from yibao.fsi.call import NOTHING, Call, Original, Reply, Reversed
from yibao.fsi.envelope import Fields, InvalidMessage, wall_time, yuan
from yibao.fsi.handlers import mapping
from yibao.fsi.handlers.output import (
    fee_upload_answer,
    setldetail,
    setlinfo,
    settlement_extra,
)
from yibao.settlement import service
from yibao.settlement.domain import CERT_TYPE_NAMES, MED_TYPE_NAMES, FeeLine
from yibao.settlement.figures import BillFigures

INSUTYPES = {"310", "390"}


async def register(call: Call) -> Reply:
    data = call.data()
    visit = await service.register_visit_in(
        call.session,
        call.runtime.cipher,
        call.runtime.clock,
        call.caller,
        psn_no=data.code("psn_no", max_len=30),
        insutype=data.choice("insutype", INSUTYPES),
        med_type=data.choice("med_type", MED_TYPE_NAMES, default="11"),
        cert_type=data.choice("mdtrt_cert_type", CERT_TYPE_NAMES),
        cert_no=data.code("mdtrt_cert_no", max_len=200),
        msgid=call.envelope.msgid,
    )
    return Reply(
        {
            "data": {
                "mdtrt_id": visit.mdtrt_id,
                "psn_no": data.code("psn_no"),
                "ipt_otp_no": data.code("ipt_otp_no", required=False, max_len=30),
                "begntime": wall_time(visit.begin_at),
            }
        }
    )


async def reverse_registration(call: Call, original: Original) -> Reversed:
    withdrawn = await service.withdraw_registration(
        call.session, call.caller, psn_no=original.psn_no, msgid=original.msgid
    )
    return Reversed("visit") if withdrawn else NOTHING


def fee_line(row: Fields) -> FeeLine:
    return FeeLine(
        feedetl_sn=row.code("feedetl_sn", max_len=30),
        med_list_codg=row.code("med_list_codg", max_len=50),
        pric_fen=row.yuan("pric"),
        cnt=row.count("cnt"),
        det_item_fee_sumamt_fen=row.yuan("det_item_fee_sumamt"),
    )


def _wall_text(moment: datetime | None) -> str | None:
    return None if moment is None else f"{moment:%Y-%m-%d %H:%M:%S}"


async def upload_fees(call: Call) -> Reply:
    rows = call.input().rows("feedetail")
    mdtrt_ids = {row.code("mdtrt_id", max_len=30) for row in rows}
    psn_nos = {row.code("psn_no", max_len=30) for row in rows}
    if len(mdtrt_ids) != 1 or len(psn_nos) != 1:
        raise InvalidMessage("一次上传的 feedetail 应属于同一就诊（mdtrt_id、psn_no 相同）")
    lines = await mapping.fee_lines(call, rows)
    splits = await service.upload_fees_in(
        call.session,
        call.runtime.clock,
        call.caller,
        psn_no=psn_nos.pop(),
        mdtrt_id=mdtrt_ids.pop(),
        lines=lines,
        times=[_wall_text(row.moment("fee_ocur_time", required=False)) for row in rows],
        msgid=call.envelope.msgid,
        batches=[row.code("chrg_bchno", required=False, max_len=30) or None for row in rows],
    )
    return Reply(*fee_upload_answer(splits))


async def reverse_upload(call: Call, original: Original) -> Reversed:
    withdrawn = await service.withdraw_upload(
        call.session, call.caller, psn_no=original.psn_no, msgid=original.msgid
    )
    return Reversed("fees") if withdrawn else NOTHING


def bill_request(
    call: Call, data: Fields, *, lines: tuple[FeeLine, ...] | None
) -> service.BillRequest:
    return service.BillRequest(
        psn_no=data.code("psn_no", max_len=30),
        mdtrt_cert_type=data.choice("mdtrt_cert_type", CERT_TYPE_NAMES),
        mdtrt_cert_no=data.code("mdtrt_cert_no", max_len=200),
        med_type=data.choice("med_type", MED_TYPE_NAMES, default="41" if lines is not None else ""),
        medfee_sumamt_fen=data.yuan("medfee_sumamt"),
        insutype=data.choice("insutype", INSUTYPES),
        acct_used_flag=data.flag("acct_used_flag"),
        msgid=call.envelope.msgid,
        mdtrt_id=None if lines is not None else data.code("mdtrt_id", max_len=30),
        lines=lines,
    )


def assessment_reply(call: Call, result: service.Assessment, request: service.BillRequest) -> Reply:
    extra: dict[str, Any] = {
        "mdtrt_id": result.mdtrt_id,
        "insutype": result.enrolment.insutype,
        "med_type": request.med_type,
        "mdtrt_cert_type": request.mdtrt_cert_type,
        "setl_time": wall_time(call.runtime.clock.now()),
    }
    if result.settlement is not None:
        extra.update(settlement_extra(result.settlement))
    return Reply(
        {
            "setlinfo": setlinfo(result.person, result.enrolment.psn_type, result.figures, extra),
            "setldetail": setldetail(result.enrolment.insutype, result.figures),
        },
        result.warnings,
    )


async def _assess(call: Call, *, write: bool) -> Reply:
    request = bill_request(call, call.data(), lines=None)
    result = await service.settle_in(
        call.session,
        call.runtime.cipher,
        call.runtime.clock,
        call.caller,
        request,
        write=write,
    )
    return assessment_reply(call, result, request)


async def pre_settle(call: Call) -> Reply:
    return await _assess(call, write=False)


async def settle(call: Call) -> Reply:
    return await _assess(call, write=True)


def cancellation_reply(done: service.Cancellation) -> Reply:
    settlement = done.settlement
    back = BillFigures.read(settlement).refund(done.balc_fen)
    return Reply(
        {
            "setlinfo": {
                "setl_id": settlement.setl_id,
                "mdtrt_id": settlement.mdtrt_id,
                "psn_no": settlement.psn_no,
                "setl_stas": "0",
                "cancel_time": wall_time(settlement.cancelled_at or settlement.setl_time),
                "medfee_sumamt": yuan(back.medfee_sumamt_fen),
                "fund_pay_sumamt": yuan(back.fund_pay_sumamt_fen),
                "acct_pay": yuan(back.acct_pay_fen),
                "acct_mulaid_pay": yuan(back.acct_mulaid_pay_fen),
                "psn_cash_pay": yuan(back.psn_cash_pay_fen),
                "balc": yuan(back.balc_fen),
            },
            "setldetail": setldetail(settlement.insutype, back),
        }
    )


async def cancel(call: Call) -> Reply:
    data = call.data()
    done = await service.cancel_in(
        call.session,
        call.runtime.clock,
        call.caller,
        setl_id=data.code("setl_id", max_len=30),
        psn_no=data.code("psn_no", max_len=30),
        mdtrt_id=data.code("mdtrt_id", required=call.caller.kind == "H", max_len=30) or None,
        reason=f"{call.envelope.infno} 结算撤销",
    )
    return cancellation_reply(done)


async def reverse_settlement(call: Call, original: Original) -> Reversed:
    """2601 of a 2207 or a 2102."""
    found = await service.reverse_settlement(
        call.session,
        call.runtime.clock,
        call.caller,
        psn_no=original.psn_no,
        msgid=original.msgid,
        reason=f"冲正 {original.infno} 交易 {original.msgid}",
    )
    if found.cancellation is None:
        return Reversed("nothing", found.setl_id)
    return Reversed("settlement", found.setl_id, found.cancellation.balc_fen)
