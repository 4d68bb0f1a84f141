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
