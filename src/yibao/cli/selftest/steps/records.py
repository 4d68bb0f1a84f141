"""Reconciling and reversing: 5203 结算信息查询, 2601 冲正交易."""

from __future__ import annotations

from yibao.cli.selftest.registry import BOTH, Run, expect, step

SETTLE = {"pharmacy": "2102", "clinic": "2207"}


@step("5203", "结算信息查询", tiers=BOTH, order=90)
def query_settlement(run: Run) -> str:
    setl_id, psn_no = run.need("setl_id"), run.need("psn_no")
    output = run.call("5203", {"data": {"setl_id": setl_id, "psn_no": psn_no}})
    setlinfo, settled = output["setlinfo"], run.need("settled")
    for name in ("setl_id", "medfee_sumamt", "hifp_pay", "acct_pay", "psn_cash_pay"):
        expect(setlinfo[name] == settled[name], f"5203 {name} 与结算应答不一致")
    expect(bool(output["feedetail"]), "5203 没有返回费用明细")
    return f"{setl_id}：{len(output['feedetail'])} 条明细"


@step("2601", "冲正交易", tiers=BOTH, order=100)
def reverse_settlement(run: Run) -> str:
    """Reverse the day's settlement message: its money comes back, and 5203 shows it undone."""
    psn_no, msgid = run.need("psn_no"), run.need("settled_msgid")
    data = {"psn_no": psn_no, "omsgid": msgid, "oinfno": SETTLE[run.tier]}
    output = run.call("2601", {"data": data})["data"]
    expect(output["rever_result"] == "settlement", f"2601 rever_result 应为 settlement：{output}")
    again = run.call("2601", {"data": data})["data"]
    expect(again["rever_result"] == "nothing", "再次冲正同一笔应答 nothing")
    query = run.call("5203", {"data": {"setl_id": run.need("setl_id"), "psn_no": psn_no}})
    expect(query["setlinfo"]["setl_stas"] == "0", "冲正后 5203 应显示结算已撤销")
    return f"冲正 {SETTLE[run.tier]} {msgid}"
