"""A clinic's visit: 2201 挂号, 2203 就诊信息上传, 2204 费用明细上传, 2205 费用明细撤销,
2206 预结算, 2207 结算, 2208 结算撤销, 2202 挂号撤销."""

from __future__ import annotations

from typing import Any

from yibao.cli.selftest.registry import CLINIC, Run, expect, step
from yibao.cli.selftest.steps.common import (
    certificate,
    check_figures,
    lines,
    now_text,
    serial,
    summary,
)


def register(run: Run) -> str:
    """2201: a new visit of the person; its mdtrt_id."""
    output = run.call(
        "2201",
        {
            "data": {
                "psn_no": run.need("psn_no"),
                "insutype": run.need("insutype"),
                "begntime": now_text(),
                **certificate(run),
                "ipt_otp_no": serial(run),
                "atddr_no": "D001",
                "dr_name": "王医生",
                "dept_code": "A03",
                "dept_name": "内科",
                "caty": "A03",
                "med_type": "11",
            }
        },
    )
    mdtrt_id = output["data"]["mdtrt_id"]
    expect(bool(mdtrt_id), "2201 没有返回 mdtrt_id")
    return str(mdtrt_id)


def upload(run: Run, mdtrt_id: str) -> tuple[list[dict[str, Any]], str]:
    """2204: the run's fee lines on the visit; the lines' answers and the total."""
    rows, total = lines(run, prefix=serial(run), mdtrt_id=mdtrt_id)
    output = run.call("2204", {"feedetail": rows})
    results = output["result"]
    expect(
        sorted(r["feedetl_sn"] for r in results) == sorted(r["feedetl_sn"] for r in rows),
        "2204 的 result 应逐条对应上传的 feedetail",
    )
    return results, total


def bill(run: Run, mdtrt_id: str, total: str) -> dict[str, Any]:
    return {
        "data": {
            "psn_no": run.need("psn_no"),
            **certificate(run),
            "med_type": "11",
            "medfee_sumamt": total,
            "psn_setlway": "01",
            "mdtrt_id": mdtrt_id,
            "chrg_bchno": serial(run),
            "insutype": run.need("insutype"),
            "acct_used_flag": "1",
        }
    }


def settle(run: Run, mdtrt_id: str, total: str) -> dict[str, Any]:
    """2207; the setlinfo, after checking its figures."""
    setlinfo: dict[str, Any] = run.call("2207", bill(run, mdtrt_id, total))["setlinfo"]
    check_figures("2207", setlinfo, total)
    expect(bool(setlinfo.get("setl_id")), "2207 没有返回 setl_id")
    return setlinfo


@step("2201", "门诊挂号", tiers=CLINIC, order=60)
def registration(run: Run) -> str:
    mdtrt_id = register(run)
    run.keep("mdtrt_id", mdtrt_id)
    return f"mdtrt_id {mdtrt_id}"


@step("2204", "门诊费用明细信息上传", tiers=CLINIC, order=70)
def fee_upload(run: Run) -> str:
    results, total = upload(run, run.need("mdtrt_id"))
    run.keep("total", total)
    return f"{len(results)} 条，合计 {total}"


@step("2206", "门诊预结算", tiers=CLINIC, order=80)
def pre_settlement(run: Run) -> str:
    total = run.need("total")
    setlinfo = run.call("2206", bill(run, run.need("mdtrt_id"), total))["setlinfo"]
    check_figures("2206", setlinfo, total)
    run.keep("pre_settled", setlinfo)
    return summary(setlinfo)


@step("2207", "门诊结算", tiers=CLINIC, order=85)
def settlement(run: Run) -> str:
    setlinfo = settle(run, run.need("mdtrt_id"), run.need("total"))
    run.keep("settled_msgid", run.client.last_msgid)
    before = run.state.get("pre_settled")
    if before is not None:
        for name in ("hifp_pay", "acct_pay", "psn_cash_pay"):
            expect(setlinfo[name] == before[name], f"2207 {name} 与预结算 2206 不一致")
    run.keep("setl_id", setlinfo["setl_id"])
    run.keep("settled", setlinfo)
    return f"setl_id {setlinfo['setl_id']}，{summary(setlinfo)}"


@step("2208", "门诊结算撤销", tiers=CLINIC, order=110)
def cancellation(run: Run) -> str:
    mdtrt_id = register(run)
    _, total = upload(run, mdtrt_id)
    setlinfo = settle(run, mdtrt_id, total)
    psn_no = run.need("psn_no")
    data = {"setl_id": setlinfo["setl_id"], "mdtrt_id": mdtrt_id, "psn_no": psn_no}
    cancelled = run.call("2208", {"data": data})["setlinfo"]
    expect(cancelled["setl_id"] == setlinfo["setl_id"], "2208 撤销的 setl_id 不符")
    expect(
        cancelled["acct_pay"].lstrip("-") == setlinfo["acct_pay"].lstrip("-"),
        "2208 退回个人账户的金额应等于结算时的 acct_pay",
    )
    again = run.send("2208", {"data": data})
    expect(str(again.get("infcode")) != "0", "同一结算不应能撤销两次")
    return f"撤销 {setlinfo['setl_id']}，退回账户 {setlinfo['acct_pay']}"


@step("2203", "门诊就诊信息上传", tiers=CLINIC, order=65)
def visit_info(run: Run) -> str:
    mdtrt_id = run.need("mdtrt_id")
    body: dict[str, Any] = {
        "mdtrtinfo": {
            "mdtrt_id": mdtrt_id,
            "psn_no": run.need("psn_no"),
            "med_type": "11",
            "begntime": now_text(),
            "main_cond_dscr": "咳嗽三天，伴低热",
            "dise_codg": "",
            "dise_name": "",
            "birctrl_type": "",
            "birctrl_matn_date": "",
        },
        "diseinfo": [
            {
                "diag_type": "1",
                "diag_srt_no": "1",
                "diag_code": "J06.900",
                "diag_name": "急性上呼吸道感染",
                "diag_dept": "内科",
                "dise_dor_no": "D001",
                "dise_dor_name": "王医生",
                "diag_time": now_text(),
                "vali_flag": "1",
            }
        ],
    }
    output = run.call("2203", body)
    expect(output["data"]["mdtrt_id"] == mdtrt_id, "2203 应答的 mdtrt_id 不符")
    body["diseinfo"][0]["diag_type"] = "9"
    wrong = run.send("2203", body)
    expect("diseinfo[0].diag_type" in str(wrong.get("err_msg")), "错误的诊断类别应被指出字段")
    return "1 条诊断"


@step("2205", "门诊费用明细信息撤销", tiers=CLINIC, order=75)
def fee_withdrawal(run: Run) -> str:
    """A second batch uploaded to the visit and withdrawn: the bill is the first batch again."""
    mdtrt_id, psn_no = run.need("mdtrt_id"), run.need("psn_no")
    batch = serial(run)
    rows, _ = lines(run, prefix=batch, mdtrt_id=mdtrt_id)
    run.call("2204", {"feedetail": rows})
    data = {"mdtrt_id": mdtrt_id, "chrg_bchno": batch, "psn_no": psn_no}
    output = run.call("2205", {"data": data})
    expect(int(output["data"]["cnt"]) == len(rows), f"2205 应撤销 {len(rows)} 条：{output}")
    again = run.send("2205", {"data": data})
    expect(str(again.get("infcode")) != "0", "同一批次不应能撤销两次")
    return f"撤销批次 {batch}，{len(rows)} 条"


@step("2202", "门诊挂号撤销", tiers=CLINIC, order=87)
def registration_cancel(run: Run) -> str:
    """Before the day's settlement is reversed (100): its visit is still settled, and refused."""
    mdtrt_id = register(run)
    data = {"psn_no": run.need("psn_no"), "mdtrt_id": mdtrt_id, "ipt_otp_no": serial(run)}
    run.call("2202", {"data": data})
    again = run.send("2202", {"data": data})
    expect("已撤销" in str(again.get("err_msg")), f"再次撤销应答已撤销：{again.get('err_msg')}")
    settled = run.send("2202", {"data": {**data, "mdtrt_id": run.need("mdtrt_id")}})
    expect("已结算" in str(settled.get("err_msg")), "已结算的就诊不应能撤销挂号")
    return f"撤销 {mdtrt_id}"
