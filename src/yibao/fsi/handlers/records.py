"""2601 冲正 and 5203 结算信息查询."""

from __future__ import annotations

from yibao.fsi.call import NOTHING, Call, Original, Reply
from yibao.fsi.envelope import InvalidMessage, yuan
from yibao.fsi.handlers.output import setldetail, setlinfo, settlement_extra
from yibao.settlement import service
from yibao.settlement.figures import BillFigures


async def reverse(call: Call) -> Reply:
    """2601: undo the message it names, the way that message's row says (`fsi.transactions`)."""
    data = call.data()
    original = Original(
        infno=data.code("oinfno", max_len=6),
        psn_no=data.code("psn_no", max_len=30),
        msgid=data.code("omsgid", max_len=30),
    )
    row = call.transactions.get(original.infno)
    if row is None:  # a code yibao never answered did nothing here
        done = NOTHING
    elif row.reverse is None:
        raise InvalidMessage(row.irreversible.format(infno=original.infno, name=row.name))
    else:
        done = await row.reverse(call, original)
    output = {
        "omsgid": original.msgid,
        "oinfno": original.infno,
        "rever_result": done.result,
        "setl_id": done.setl_id,
        "balc": None if done.balc_fen is None else yuan(done.balc_fen),
    }
    warnings = [] if done.result != "nothing" else ["原交易未产生需要冲正的数据"]
    return Reply({"data": output}, warnings)


async def query_settlement(call: Call) -> Reply:
    data = call.data()
    detail = await service.settlement_detail(
        call.session,
        call.caller,
        data.code("setl_id", max_len=30),
        data.code("psn_no", max_len=30),
    )
    settlement = detail.settlement
    figures = BillFigures.read(settlement)
    return Reply(
        {
            "setlinfo": setlinfo(detail.person, "", figures, settlement_extra(settlement)),
            "setldetail": setldetail(settlement.insutype, figures),
            "feedetail": [
                {
                    "feedetl_sn": item.feedetl_sn,
                    "med_list_codg": item.med_list_codg,
                    "med_list_name": item.med_list_name,
                    "chrgitm_lv": item.chrgitm_lv,
                    "pric": yuan(item.pric_fen),
                    "cnt": item.cnt,
                    "det_item_fee_sumamt": yuan(item.det_item_fee_sumamt_fen),
                    "fulamt_ownpay_amt": yuan(item.fulamt_ownpay_amt_fen),
                    "overlmt_amt": yuan(item.overlmt_selfpay_fen),
                    "preselfpay_amt": yuan(item.preselfpay_amt_fen),
                    "inscp_scp_amt": yuan(item.inscp_scp_amt_fen),
                }
                for item in detail.items
            ],
        }
    )
