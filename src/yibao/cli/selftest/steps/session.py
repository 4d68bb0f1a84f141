"""9001 签到 opens the day; 9002 签退 closes it (the last step)."""

from __future__ import annotations

from yibao.cli.selftest.registry import BOTH, Run, expect, step


@step("9001", "签到", tiers=BOTH, order=10)
def sign_in(run: Run) -> str:
    output = run.call("9001", {"signIn": {"opter_no": "selftest", "mac": "", "ip": ""}})
    sign_no = output["signinoutb"]["sign_no"]
    expect(bool(sign_no), "9001 没有返回 sign_no")
    run.client.sign_no = sign_no
    again = run.call("9001", {"signIn": {"opter_no": "selftest", "mac": "", "ip": ""}})
    expect(again["signinoutb"]["sign_no"] == sign_no, "同日再次签到应返回同一 sign_no")
    return f"sign_no {sign_no}"


@step("9002", "签退", tiers=BOTH, order=200)
def sign_out(run: Run) -> str:
    sign_no = run.client.sign_no or ""
    expect(bool(sign_no), "没有当日 sign_no（9001 未通过）")
    output = run.call("9002", {"signOut": {"sign_no": sign_no, "fixmedins_code": run.client.code}})
    expect("signoutoutb" in output, "9002 没有返回 signoutoutb")
    after = run.send("5203", {"data": {"setl_id": "S0", "psn_no": "0"}})  # a read still answers
    expect(str(after.get("infcode")) == "-1", "5203 查询不存在的结算应失败")
    moved = run.send("2601", {"data": {"psn_no": "0", "omsgid": "0", "oinfno": "9001"}})
    expect("签到" in str(moved.get("err_msg")), "签退后需签到的交易应要求重新签到（9001）")
    run.client.sign_no = None
    return "签退后需签到的交易要求重新签到"
