"""异地就医 at this deployment's hospitals, around the bill: 2001 (asked of the home region),
2203/2203A, 2205, 2202 and the 2601 of a 2201 or 2203 (this side's visit record only), and 5203
(this side's record of the settlement). Input is read as the in-region handlers read it, and the
answers have the in-region fields (`fsi/handlers/visits.py`, `treatment.py`, `records.py`).
"""

from __future__ import annotations

from typing import Any

from yibao.crossregion import service as crossregion
from yibao.fsi.call import NOTHING, Call, Original, Reply, Reversed
from yibao.fsi.envelope import wall_time, yuan
from yibao.fsi.handlers.crossregion.billing import figures_of, home_of
from yibao.fsi.handlers.output import setldetail
from yibao.fsi.handlers.treatment import INSUTYPES
from yibao.fsi.handlers.visits import VisitHandlers
from yibao.settlement.domain import MED_TYPE_NAMES


async def check(call: Call) -> Reply:
    """2001: the home region answers each fund, with the reasons it would not pay."""
    data = call.data()
    data.moment("begntime")  # required by the national interface; today is what is checked
    code = data.code("fixmedins_code", required=False, max_len=30)
    if code and code != call.caller.fixmedins_code:
        data.choice("fixmedins_code", {call.caller.fixmedins_code})  # names the field
    psn_no = data.code("psn_no", max_len=30)
    insutype = data.choice("insutype", INSUTYPES)
    med_type = data.choice("med_type", MED_TYPE_NAMES)
    peer = await home_of(call)
    found = await crossregion.check_in(
        crossregion.link_of(call.runtime),
        call.caller,
        peer,
        psn_no=psn_no,
        insutype=insutype,
        med_type=med_type,
    )
    warnings = [f"异地就医：参保地 {peer.region_name}（{peer.admdvs}）"]
    if not found.filed:
        warnings.append("参保人未办理到本地的异地就医备案")
    warnings += [f"{f.fund_name}：{'；'.join(f.reasons)}" for f in found.funds if f.reasons]
    return Reply(
        {
            "trtinfo": [
                {
                    "psn_no": found.psn_no,
                    "trt_chk_type": f.check,
                    "fund_pay_type": f.fund_pay_type,
                    "fund_pay_type_name": f.fund_name,
                    "trt_enjymnt_flag": "0" if f.reasons else "1",
                    "begndate": f.begndate,
                    "enddate": None,
                    "trt_chk_rslt": "；".join(f.reasons) or None,
                }
                for f in found.funds
            ]
        },
        warnings,
    )


# 2203/2203A, the 2601 of a 2203 and 2205 read and answer as in-region; only the visit record
# they change is this side's own.
_VISITS = VisitHandlers(
    crossregion.record_visit_info_in,
    crossregion.withdraw_visit_info,
    crossregion.withdraw_fee_batch_in,
)
upload_visit_info = _VISITS.upload_visit_info
reverse_visit_info = _VISITS.reverse_visit_info
withdraw_fees = _VISITS.withdraw_fees


async def cancel_registration(call: Call) -> Reply:
    """2202: `{"data": {"psn_no", "mdtrt_id", "ipt_otp_no"}}`."""
    data = call.data()
    psn_no = data.code("psn_no", max_len=30)
    visit = await crossregion.cancel_registration_in(
        call.session,
        call.runtime.clock,
        call.caller,
        psn_no=psn_no,
        mdtrt_id=data.code("mdtrt_id", max_len=30),
    )
    return Reply({"data": {"mdtrt_id": visit.mdtrt_id, "psn_no": psn_no}})


async def reverse_registration(call: Call, original: Original) -> Reversed:
    """2601 of a cross-region 2201: the visit is cancelled as by 2202."""
    withdrawn = await crossregion.withdraw_registration(
        call.session,
        call.runtime.clock,
        call.caller,
        psn_no=original.psn_no,
        msgid=original.msgid,
    )
    return Reversed("visit") if withdrawn else NOTHING


async def query_settlement(call: Call) -> Reply:
    """5203: the in-region answer's blocks, from this side's record of the settlement."""
    data = call.data()
    detail = await crossregion.settlement_detail(
        call.session,
        call.caller,
        data.code("setl_id", max_len=30),
        data.code("psn_no", max_len=30),
    )
    row = detail.settlement
    figures = figures_of(detail.figures)
    setlinfo: dict[str, Any] = {
        "psn_no": row.psn_no,
        "psn_name": row.psn_name,
        "psn_cert_type": "01",
        "certno": detail.person.get("certno_masked"),
        "gend": detail.person.get("gend"),
        "brdy": detail.person.get("brdy"),
        "setl_id": row.setl_id,
        "mdtrt_id": row.mdtrt_id,
        "insutype": row.insutype,
        "med_type": row.med_type,
        "setl_time": wall_time(row.created_at),
        "medins_setl_id": row.msgid,
        "setl_stas": "1" if row.status == "settled" else "0",
        "insuplc_admdvs": row.home_admdvs,
        "mdtrtarea_admvs": call.caller.admdvs,
        "clr_type": "异地",
    }
    setlinfo.update({name: yuan(amount) for name, amount in figures.answer_fields().items()})
    return Reply(
        {
            "setlinfo": setlinfo,
            "setldetail": setldetail(row.insutype, figures),
            "feedetail": [
                {
                    "feedetl_sn": item["feedetl_sn"],
                    "med_list_codg": item["med_list_codg"],
                    "med_list_name": item["med_list_name"],
                    "chrgitm_lv": item["chrgitm_lv"],
                    "pric": yuan(int(item["pric_fen"])),
                    "cnt": item["cnt"],
                    "det_item_fee_sumamt": yuan(int(item["det_item_fee_sumamt_fen"])),
                    "fulamt_ownpay_amt": yuan(int(item["fulamt_ownpay_fen"])),
                    "overlmt_amt": yuan(int(item["overlmt_selfpay_fen"])),
                    "preselfpay_amt": yuan(int(item["preselfpay_fen"])),
                    "inscp_scp_amt": yuan(int(item["inscp_scp_fen"])),
                }
                for item in detail.items
            ],
        }
    )
