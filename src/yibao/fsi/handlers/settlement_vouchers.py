"""4901 医疗机构上传电子结算凭证, 4905 重新上传, 4902 上传结果查询, 5501 查询电子结算凭证状态.

The shapes are yibao's, after the field names national vouchers carry (bill_code, bill_no,
bill_chkcode, biller, rechker, bill_amt) and the settlement's own (setl_id, psn_no and the
setlinfo amounts); see docs/fsi.md.
"""

from __future__ import annotations

from yibao.files.domain import decode_content
from yibao.fsi.call import NOTHING, Call, Original, Reply, Reversed
from yibao.fsi.envelope import Fields, wall_time, yuan
from yibao.settlement_vouchers import service
from yibao.settlement_vouchers.domain import STATUS_NAMES, VoucherData

REQUIRED_AMOUNTS = ("medfee_sumamt", "bill_amt", "fund_pay_sumamt", "acct_pay", "psn_cash_pay")
OPTIONAL_AMOUNTS = ("hifp_pay", "acct_mulaid_pay")


def _voucher_data(data: Fields, *, reason_required: bool) -> VoucherData:
    bill_time = data.moment("bill_time")
    assert bill_time is not None
    amounts: dict[str, int | None] = {name: data.yuan(name) for name in REQUIRED_AMOUNTS}
    for name in OPTIONAL_AMOUNTS:
        amounts[name] = data.yuan(name) if data.raw(name) not in (None, "") else None
    return VoucherData(
        setl_id=data.code("setl_id", max_len=30),
        psn_no=data.code("psn_no", max_len=30),
        psn_name=data.text("psn_name", max_len=50),
        bill_code=data.code("bill_code", max_len=50),
        bill_no=data.code("bill_no", max_len=50),
        bill_chkcode=data.code("bill_chkcode", max_len=20),
        bill_time=bill_time,
        biller=data.text("biller", required=False, max_len=50),
        rechker=data.text("rechker", required=False, max_len=50),
        amounts=amounts,
        reason=data.text("reupld_rea", required=reason_required, max_len=200),
    )


def _document(call: Call, data: Fields) -> service.Document | None:
    if data.raw("file") in (None, ""):
        return None
    max_bytes = call.runtime.settings.upload_max_bytes
    content = decode_content(data.raw("file"), f"{data.where}.file", max_bytes)
    name = data.text("file_name", required=False, max_len=100) or "voucher"
    return service.Document(name, content)


def _answer(view: service.VoucherView) -> dict[str, object]:
    return {
        "setl_id": view.setl_id,
        "bill_code": view.bill_code,
        "bill_no": view.bill_no,
        "bill_amt": yuan(view.medfee_sumamt_fen),
        "vouch_ver": view.version,
        "upld_time": wall_time(view.uploaded_at),
        "file_size": view.document_size or 0,
        "sha256": view.digest,
    }


async def _upload(call: Call, *, replace: bool) -> Reply:
    data = call.data()
    view = await service.upload_voucher_in(
        call.session,
        call.runtime.clock,
        call.caller,
        _voucher_data(data, reason_required=replace),
        _document(call, data),
        msgid=call.envelope.msgid,
        replace=replace,
        max_bytes=call.runtime.settings.upload_max_bytes,
        where=data.where,
    )
    return Reply({"data": {**_answer(view), "upld_stas": "1"}})


async def upload(call: Call) -> Reply:
    """4901: the first voucher of a settlement."""
    return await _upload(call, replace=False)


async def upload_again(call: Call) -> Reply:
    """4905: a corrected voucher replaces the current one; the old version is kept."""
    return await _upload(call, replace=True)


async def upload_result(call: Call) -> Reply:
    """4902: the voucher kept for a settlement. yibao checks an upload while it answers 4901,
    so a kept voucher has passed (upld_rslt 1); one that failed was refused and kept nothing."""
    data = call.data()
    view = await service.upload_result(
        call.session,
        call.caller,
        data.code("setl_id", max_len=30),
        data.code("psn_no", required=False, max_len=30) or None,
    )
    return Reply(
        {"data": {**_answer(view), "upld_rslt": "1", "upld_rslt_dscr": "上传成功，与结算信息一致"}}
    )


async def status(call: Call) -> Reply:
    """5501: 0 not uploaded, 1 uploaded, 2 void (the settlement was cancelled after it)."""
    data = call.data()
    found = await service.voucher_status(
        call.session,
        call.caller,
        data.code("setl_id", max_len=30),
        data.code("psn_no", required=False, max_len=30) or None,
    )
    answer: dict[str, object] = {
        "setl_id": found.setl_id,
        "vouch_stas": found.status,
        "vouch_stas_name": STATUS_NAMES[found.status],
    }
    if found.voucher is not None:
        answer |= _answer(found.voucher)
    return Reply({"data": answer})


async def reverse_upload(call: Call, original: Original) -> Reversed:
    """2601 of a 4901/4905: the version it kept is withdrawn; the one before is current again."""
    withdrawn = await service.withdraw_voucher(
        call.session, call.runtime.clock, call.caller, original.msgid, original.psn_no
    )
    return NOTHING if withdrawn is None else Reversed("voucher", setl_id=withdrawn.setl_id)
