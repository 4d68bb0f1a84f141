"""A pharmacy's sale: 2101 药店预结算, 2102 药店结算, 2103 药店结算撤销."""

from __future__ import annotations

from typing import Any

from yibao.cli.selftest.registry import PHARMACY, Run, expect, step
from yibao.cli.selftest.steps.common import certificate, check_figures, lines, serial, summary


def sale(run: Run) -> tuple[dict[str, Any], str]:
    """A sale of the run's drugs: the 2101/2102 input and its total."""
    batch = serial(run)
    rows, total = lines(run, prefix=batch)
    druginfo = {
        "psn_no": run.need("psn_no"),
        **certificate(run),
        "insutype": run.need("insutype"),
        "med_type": "41",
        "medfee_sumamt": total,
        "psn_setlway": "01",
        "acct_used_flag": "1",
        "chrg_bchno": batch,
        "fulamt_ownpay_amt": "0.00",
        "overlmt_selfpay": "0.00",
        "preselfpay_amt": "0.00",
        "inscp_scp_amt": total,
    }
    return {"druginfo": druginfo, "drugdetail": rows}, total


def settle(run: Run) -> dict[str, Any]:
    body, total = sale(run)
    setlinfo: dict[str, Any] = run.call("2102", body)["setlinfo"]
    check_figures("2102", setlinfo, total)
    expect(bool(setlinfo.get("setl_id")), "2102 没有返回 setl_id")
    return setlinfo


@step("2101", "药店预结算", tiers=PHARMACY, order=80)
def pre_settlement(run: Run) -> str:
    body, total = sale(run)
    setlinfo = run.call("2101", body)["setlinfo"]
    check_figures("2101", setlinfo, total)
    return summary(setlinfo)


@step("2102", "药店结算", tiers=PHARMACY, order=85)
def settlement(run: Run) -> str:
    setlinfo = settle(run)
    run.keep("settled_msgid", run.client.last_msgid)
    run.keep("setl_id", setlinfo["setl_id"])
    run.keep("settled", setlinfo)
    return f"setl_id {setlinfo['setl_id']}，{summary(setlinfo)}"


@step("2103", "药店结算撤销", tiers=PHARMACY, order=110)
def cancellation(run: Run) -> str:
    setlinfo = settle(run)
    data = {"setl_id": setlinfo["setl_id"], "psn_no": run.need("psn_no")}
    cancelled = run.call("2103", {"data": data})["setlinfo"]
    expect(cancelled["setl_id"] == setlinfo["setl_id"], "2103 撤销的 setl_id 不符")
    again = run.send("2103", {"data": data})
    expect(str(again.get("infcode")) != "0", "同一结算不应能撤销两次")
    return f"撤销 {setlinfo['setl_id']}，退回账户 {setlinfo['acct_pay']}"
