"""The electronic settlement voucher (orders 91–95, after 5203 and before the day's settlement
is reversed): 4901 upload, 4902 its result, 5501 its status, 4905 a corrected upload; and a
pharmacy's 7201 electronic prescription authorisation (order 75, before its sales)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from yibao.cli.selftest.registry import BOTH, PHARMACY, Run, expect, step
from yibao.cli.selftest.steps.common import BEIJING, now_text

# The smallest PDF the upload check accepts, standing for the voucher's layout file (版式文件).
VOUCHER_PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


def voucher_of(run: Run, **extra: str) -> dict[str, Any]:
    """The 4901 input for the day's settlement, its figures as 2207/2102 answered them."""
    settled = run.need("settled")
    names = ("medfee_sumamt", "fund_pay_sumamt", "hifp_pay", "acct_pay", "acct_mulaid_pay")
    data = {
        "setl_id": run.need("setl_id"),
        "psn_no": run.need("psn_no"),
        "psn_name": settled["psn_name"],
        "bill_code": "SELFTEST",
        "bill_no": f"{datetime.now(BEIJING):%H%M%S}{secrets.randbelow(10**4):04d}",
        "bill_chkcode": secrets.token_hex(3),
        "bill_time": now_text(),
        "biller": "自测",
        "rechker": "自测",
        **{name: settled[name] for name in names},
        "psn_cash_pay": settled["psn_cash_pay"],
        "bill_amt": settled["medfee_sumamt"],
        "file_name": "电子结算凭证.pdf",
        "file": base64.b64encode(VOUCHER_PDF).decode(),
        **extra,
    }
    return {"data": data}


@step("4901", "医疗机构上传电子结算凭证", tiers=BOTH, order=91)
def upload(run: Run) -> str:
    body = voucher_of(run)
    output = run.call("4901", body)["data"]
    expect(output["vouch_ver"] == 1, f"4901 应为第 1 版：{output}")
    expect(output["sha256"] == hashlib.sha256(VOUCHER_PDF).hexdigest(), "4901 sha256 与文件不符")
    wrong = voucher_of(run, acct_pay="0.01" if body["data"]["acct_pay"] != "0.01" else "0.02")
    refused = run.send("4901", wrong)
    expect(str(refused.get("infcode")) != "0", "金额与结算不符的凭证应被拒绝")
    expect("acct_pay" in str(refused.get("err_msg")), "拒绝应指出 acct_pay")
    run.keep("bill_no", body["data"]["bill_no"])
    return f"{output['setl_id']} 第 {output['vouch_ver']} 版，{output['file_size']} 字节"


@step("4902", "医疗机构电子结算凭证上传结果查询", tiers=BOTH, order=92)
def result(run: Run) -> str:
    query = {"data": {"setl_id": run.need("setl_id"), "psn_no": run.need("psn_no")}}
    bill_no = run.need("bill_no")
    output = run.call("4902", query)["data"]
    expect(output["upld_rslt"] == "1", f"4902 上传结果应为成功：{output}")
    expect(output["bill_no"] == bill_no, "4902 凭证号码与上传的不符")
    return f"{output['upld_rslt_dscr']}（{output['bill_no']}）"


@step("5501", "查询电子结算凭证状态", tiers=BOTH, order=93)
def status(run: Run) -> str:
    run.need("bill_no")
    output = run.call("5501", {"data": {"setl_id": run.need("setl_id")}})["data"]
    expect(output["vouch_stas"] == "1", f"5501 应为已上传：{output}")
    return f"{output['vouch_stas']} {output['vouch_stas_name']}"


@step("4905", "医疗机构重新上传电子结算凭证", tiers=BOTH, order=94)
def upload_again(run: Run) -> str:
    run.need("bill_no")
    output = run.call("4905", voucher_of(run, reupld_rea="自测：重新上传"))["data"]
    expect(output["vouch_ver"] == 2, f"4905 应为第 2 版：{output}")
    current = run.call("4902", {"data": {"setl_id": run.need("setl_id")}})["data"]
    expect(current["vouch_ver"] == 2, "4905 之后 4902 应返回新版本")
    return f"第 {output['vouch_ver']} 版"


@step("7201", "电子处方线下流转授权", tiers=PHARMACY, order=75)
def prescription(run: Run) -> str:
    """Authorise a made-up prescription of a designated hospital (found with 1201), ask again
    (the same authorisation), then reverse it with 2601 so the run leaves none behind."""
    hospitals = run.call("1201", {"medinsinfo": {"fixmedins_type": "1"}})["medinsinfo"]
    expect(bool(hospitals), "1201 没有返回定点医疗机构，无法开具测试处方")
    prescribed = datetime.now(BEIJING) - timedelta(minutes=30)
    data = {
        "hi_rxno": f"RXST{prescribed:%Y%m%d%H%M%S}{secrets.randbelow(10**6):06d}",
        "psn_no": run.need("psn_no"),
        "prsc_fixmedins_code": hospitals[0]["fixmedins_code"],
        "prsc_time": f"{prescribed:%Y-%m-%d %H:%M:%S}",
        "phar_name": "自测药师",
    }
    output = run.call("7201", {"data": data})["data"]
    msgid = run.client.last_msgid
    expect(output["auth_stas"] == "1" and bool(output["auth_no"]), f"7201 应授权：{output}")
    again = run.call("7201", {"data": data})["data"]
    expect(again["auth_no"] == output["auth_no"], "同一处方再次申请应返回同一授权")
    undo = {"psn_no": data["psn_no"], "omsgid": msgid, "oinfno": "7201"}
    revoked = run.call("2601", {"data": undo})["data"]
    expect(revoked["rever_result"] == "authorisation", f"2601 应撤销授权：{revoked}")
    return f"{output['auth_no']}（有效至 {output['auth_endtime']}，已冲正）"
