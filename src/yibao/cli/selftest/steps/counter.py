"""Who is at the counter: 1101 人员信息获取."""

from __future__ import annotations

from yibao.cli.selftest.registry import BOTH, Run, expect, step
from yibao.cli.selftest.steps.common import certificate


@step("1101", "人员信息获取", tiers=BOTH, order=20)
def person_info(run: Run) -> str:
    output = run.call(
        "1101", {"data": {**certificate(run), "psn_cert_type": "01", "certno": run.cert_no}}
    )
    base = output["baseinfo"]
    expect(bool(base.get("psn_no")), "1101 没有返回 psn_no")
    expect(run.cert_no not in str(output), "1101 的应答含有完整身份证号（应打码）")
    insured = [i for i in output["insuinfo"] if i.get("psn_insu_stas") == "1"]
    expect(bool(insured), "1101 没有返回正常参保的险种")
    run.keep("psn_no", base["psn_no"])
    run.keep("insutype", insured[0]["insutype"])
    return f"psn_no {base['psn_no']} 险种 {insured[0]['insutype']} 余额 {insured[0]['balc']}"
