"""异地就医 at this deployment's institutions, the person and the bill: 1101, 2201, 2204,
2206/2207, 2101/2102, 2208/2103 and the 2601 of a settlement, answered with the home region's
help (crossregion.service.treatment). Each runs in the institution message's one transaction, so
the stored answer and this side's record commit together.
"""

from __future__ import annotations

from typing import Any

from yibao.crossregion import service as crossregion
from yibao.crossregion.domain import Peer
from yibao.fsi.call import NOTHING, Call, Original, Reply, Reversed
from yibao.fsi.envelope import InvalidMessage, wall_time, yuan
from yibao.fsi.handlers.outpatient import INSUTYPES, fee_line
from yibao.fsi.handlers.output import fee_upload_answer, setldetail
from yibao.kernel.clock import china_today
from yibao.settlement.domain import CERT_TYPE_NAMES, MED_TYPE_NAMES
from yibao.settlement.figures import BillFigures


async def home_of(call: Call) -> Peer:
    return await crossregion.home_peer(call.session, call.envelope.insuplc_admdvs)


def _ttl(call: Call) -> int:
    return call.runtime.settings.peer_policy_ttl_seconds


async def person_info(call: Call) -> Reply:
    data = call.data()
    cert_type = data.choice("mdtrt_cert_type", CERT_TYPE_NAMES)
    cert_no = data.code("mdtrt_cert_no", required=False, max_len=200) or (
        data.code("certno", max_len=18) if cert_type == "02" else ""
    )
    if not cert_no:
        data.code("mdtrt_cert_no", max_len=200)
    peer = await home_of(call)
    found = await crossregion.person_in(
        crossregion.link_of(call.runtime),
        peer,
        call.caller,
        cert_type,
        cert_no,
        data.text("psn_name", required=False, max_len=50),
    )
    brdy = str(found["brdy"])
    today = china_today(call.runtime.clock)
    year, month, day = (int(x) for x in brdy.split("-"))
    age = today.year - year - ((today.month, today.day) < (month, day))
    return Reply(
        {
            "baseinfo": {
                "psn_no": found["psn_no"],
                "psn_name": found["psn_name"],
                "psn_cert_type": "01",
                "certno": found["certno_masked"],
                "gend": found["gend"],
                "brdy": brdy,
                "age": age,
            },
            "insuinfo": [
                {
                    "balc": yuan(int(i["balc_fen"])),
                    "insutype": i["insutype"],
                    "psn_type": i["psn_type"],
                    "psn_insu_stas": i["psn_insu_stas"],
                    "insuplc_admdvs": i["insuplc_admdvs"],
                    "emp_name": "",
                    "acct_stas": i["acct_stas"],
                }
                for i in found["insuinfo"]
            ],
            "idetinfo": [],
        },
        [f"异地就医：参保地 {peer.region_name}（{peer.admdvs}）"],
    )


async def register(call: Call) -> Reply:
    data = call.data()
    peer = await home_of(call)
    visit = await crossregion.register_in(
        call.session,
        call.runtime.clock,
        call.caller,
        peer,
        psn_no=data.code("psn_no", max_len=30),
        insutype=data.choice("insutype", INSUTYPES),
        med_type=data.choice("med_type", MED_TYPE_NAMES, default="11"),
        msgid=call.envelope.msgid,
    )
    return Reply(
        {
            "data": {
                "mdtrt_id": visit.mdtrt_id,
                "psn_no": visit.psn_no,
                "ipt_otp_no": data.code("ipt_otp_no", required=False, max_len=30),
                "begntime": wall_time(visit.begin_at),
            }
        }
    )


async def upload_fees(call: Call) -> Reply:
    rows = call.input().rows("feedetail")
    mdtrt_ids = {row.code("mdtrt_id", max_len=30) for row in rows}
    psn_nos = {row.code("psn_no", max_len=30) for row in rows}
    if len(mdtrt_ids) != 1 or len(psn_nos) != 1:
        raise InvalidMessage("一次上传的 feedetail 应属于同一就诊（mdtrt_id、psn_no 相同）")
    splits = await crossregion.upload_in(
        crossregion.link_of(call.runtime),
        call.session,
        call.runtime.clock,
        call.caller,
        _ttl(call),
        psn_no=psn_nos.pop(),
        mdtrt_id=mdtrt_ids.pop(),
        lines=[fee_line(row) for row in rows],
        batches=[row.code("chrg_bchno", required=False, max_len=30) or None for row in rows],
    )
    return Reply(*fee_upload_answer(splits))


def figures_of(f: dict[str, Any]) -> BillFigures:
    """A's figures (fen, as the settle message answered them) as the bill's one value."""
    fund = int(f["fund_pay_fen"])
    total = int(f["medfee_sumamt_fen"])
    return BillFigures(
        medfee_sumamt_fen=total,
        fulamt_ownpay_amt_fen=int(f["fulamt_ownpay_fen"]),
        overlmt_selfpay_fen=int(f["overlmt_selfpay_fen"]),
        preselfpay_amt_fen=int(f["preselfpay_fen"]),
        inscp_scp_amt_fen=int(f["inscp_scp_fen"]),
        act_pay_dedc_fen=int(f["act_pay_dedc_fen"]),
        hifp_pay_fen=fund,
        fund_pay_sumamt_fen=fund,
        psn_part_amt_fen=total - fund,
        acct_pay_fen=int(f["acct_pay_fen"]),
        acct_mulaid_pay_fen=0,
        psn_cash_pay_fen=int(f["cash_pay_fen"]),
        balc_fen=int(f["balc_fen"]),
    )


async def _assess(call: Call, *, write: bool, pharmacy: bool) -> Reply:
    if pharmacy:
        body = call.input()
        data = body.object("druginfo")
        lines = tuple(fee_line(row) for row in body.rows("drugdetail"))
    else:
        data = call.data()
        lines = None
    bill = crossregion.CrossBill(
        psn_no=data.code("psn_no", max_len=30),
        mdtrt_cert_type=data.choice("mdtrt_cert_type", CERT_TYPE_NAMES),
        mdtrt_cert_no=data.code("mdtrt_cert_no", max_len=200),
        med_type=data.choice("med_type", MED_TYPE_NAMES, default="41" if pharmacy else ""),
        medfee_sumamt_fen=data.yuan("medfee_sumamt"),
        insutype=data.choice("insutype", INSUTYPES),
        acct_used_flag=data.flag("acct_used_flag"),
        msgid=call.envelope.msgid,
        mdtrt_id=None if pharmacy else data.code("mdtrt_id", max_len=30),
        lines=lines,
    )
    peer = await home_of(call)
    done = await crossregion.settle_in(
        crossregion.link_of(call.runtime),
        call.session,
        call.runtime.clock,
        call.caller,
        peer,
        _ttl(call),
        bill,
        write=write,
    )
    f = done.figures
    figures = figures_of(f)
    setlinfo: dict[str, Any] = {
        "psn_no": bill.psn_no,
        "psn_name": done.psn_name,
        "mdtrt_id": done.mdtrt_id,
        "insutype": f["insutype"],
        "med_type": bill.med_type,
        "mdtrt_cert_type": bill.mdtrt_cert_type,
        "setl_time": wall_time(done.setl_time),
        "insuplc_admdvs": peer.admdvs,
        "mdtrtarea_admvs": call.caller.admdvs,
        "clr_type": "异地",
    }
    if write:
        setlinfo.update({"setl_id": done.setl_id, "medins_setl_id": bill.msgid, "setl_stas": "1"})
    setlinfo.update({name: yuan(amount) for name, amount in figures.answer_fields().items()})
    warnings = [s.warning for _, s, _ in done.lines if s.warning]
    if not f.get("filed", True):
        warnings.append("未办理异地就医备案：按参保地规定降低统筹基金支付比例")
    if f.get("paid_in_full"):
        warnings.append(crossregion.cash_note(peer))
    return Reply(
        {"setlinfo": setlinfo, "setldetail": setldetail(str(f["insutype"]), figures)}, warnings
    )


async def pre_settle(call: Call) -> Reply:
    return await _assess(call, write=False, pharmacy=False)


async def settle(call: Call) -> Reply:
    return await _assess(call, write=True, pharmacy=False)


async def pharmacy_pre_settle(call: Call) -> Reply:
    return await _assess(call, write=False, pharmacy=True)


async def pharmacy_settle(call: Call) -> Reply:
    return await _assess(call, write=True, pharmacy=True)


def _cancellation(done: crossregion.CrossCancelled) -> Reply:
    row = done.settlement
    back = figures_of(done.figures).refund(int(done.figures["balc_fen"]))
    return Reply(
        {
            "setlinfo": {
                "setl_id": row.setl_id,
                "mdtrt_id": row.mdtrt_id,
                "psn_no": row.psn_no,
                "setl_stas": "0",
                "cancel_time": wall_time(row.cancelled_at or row.created_at),
                "medfee_sumamt": yuan(back.medfee_sumamt_fen),
                "fund_pay_sumamt": yuan(back.fund_pay_sumamt_fen),
                "acct_pay": yuan(back.acct_pay_fen),
                "acct_mulaid_pay": yuan(0),
                "psn_cash_pay": yuan(back.psn_cash_pay_fen),
                "balc": yuan(back.balc_fen),
            },
            "setldetail": setldetail(row.insutype, back),
        }
    )


async def cancel(call: Call) -> Reply:
    data = call.data()
    done = await crossregion.cancel_in(
        crossregion.link_of(call.runtime),
        call.session,
        call.runtime.clock,
        call.caller,
        setl_id=data.code("setl_id", max_len=30),
        psn_no=data.code("psn_no", max_len=30),
        reason=f"{call.envelope.infno} 结算撤销",
    )
    return _cancellation(done)


async def reverse_settlement(call: Call, original: Original) -> Reversed:
    """2601 of a cross-region 2207 or 2102."""
    done = await crossregion.reverse_in(
        crossregion.link_of(call.runtime),
        call.session,
        call.runtime.clock,
        call.caller,
        home_admdvs=call.envelope.insuplc_admdvs,
        msgid=original.msgid,
        reason=f"冲正 {original.infno} 交易 {original.msgid}",
    )
    if done is None:
        return NOTHING
    return Reversed("settlement", done.settlement.setl_id, int(done.figures["balc_fen"]))
