"""2001 人员待遇享受检查."""

from __future__ import annotations

from yibao.fsi.call import Call, Reply
from yibao.settlement import service
from yibao.settlement.domain import MED_TYPE_NAMES

INSUTYPES = {"310", "390"}


async def check(call: Call) -> Reply:
    """`{"data": {"psn_no", "insutype", "fixmedins_code", "med_type", "begntime", …}}`: one
    `trtinfo` row per fund, `trt_enjymnt_flag` 1 or 0 and, for 0, the reasons in
    `trt_chk_rslt`."""
    data = call.data()
    data.moment("begntime")  # required by the national interface; today is what is checked
    code = data.code("fixmedins_code", required=False, max_len=30)
    if code and code != call.caller.fixmedins_code:
        data.choice("fixmedins_code", {call.caller.fixmedins_code})  # names the field
    found = await service.check_treatment(
        call.session,
        call.runtime.clock,
        call.caller,
        psn_no=data.code("psn_no", max_len=30),
        insutype=data.choice("insutype", INSUTYPES),
        med_type=data.choice("med_type", MED_TYPE_NAMES),
    )
    return Reply(
        {
            "trtinfo": [
                {
                    "psn_no": found.person.psn_no,
                    "trt_chk_type": e.check,
                    "fund_pay_type": e.fund_pay_type,
                    "fund_pay_type_name": e.fund_name,
                    "trt_enjymnt_flag": "1" if e.enjoyed else "0",
                    "begndate": e.begndate.isoformat(),
                    "enddate": None,
                    "trt_chk_rslt": "；".join(e.reasons) or None,
                }
                for e in found.entitlements
            ]
        },
        [f"{e.fund_name}：{'；'.join(e.reasons)}" for e in found.entitlements if e.reasons],
    )
