"""2601 冲正 and 5203 结算信息查询."""

from __future__ import annotations

from yibao.fsi.call import Call, Reply
from yibao.fsi.envelope import yuan
from yibao.fsi.handlers.output import setldetail, setlinfo, settlement_extra, settlement_figures
from yibao.settlement import service


async def reverse(call: Call) -> Reply:
    data = call.data()
    oinfno = data.code("oinfno", max_len=4)
    done = await service.reverse_message_in(
        call.session,
        call.runtime.clock,
        call.caller,
        psn_no=data.code("psn_no", max_len=30),
        omsgid=data.code("omsgid", max_len=30),
        oinfno=oinfno,
    )
    output = {
        "omsgid": done.omsgid,
        "oinfno": done.oinfno,
        "rever_result": done.undone,
        "setl_id": done.setl_id,
        "balc": None if done.balc_fen is None else yuan(done.balc_fen),
    }
    warnings = [] if done.undone != "nothing" else ["原交易未产生需要冲正的数据"]
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
    figures = settlement_figures(settlement)
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
