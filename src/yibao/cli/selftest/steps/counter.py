"""Who is at the counter: 1101 人员信息获取, 2001 人员待遇享受检查."""

from __future__ import annotations

from yibao.cli.selftest.registry import BOTH, Run, expect, step
from yibao.cli.selftest.steps.common import certificate, now_text


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


@step("2001", "人员待遇享受检查", tiers=BOTH, order=25)
def treatment_check(run: Run) -> str:
    psn_no, insutype = run.need("psn_no"), run.need("insutype")
    data = {
        "psn_no": psn_no,
        "insutype": insutype,
        "fixmedins_code": run.client.code,
        "med_type": "41" if run.tier == "pharmacy" else "11",
        "begntime": now_text(),
    }
    rows = run.call("2001", {"data": data})["trtinfo"]
    expect(bool(rows), "2001 没有返回 trtinfo")
    for row in rows:
        expect(row["trt_enjymnt_flag"] in {"0", "1"}, "trt_enjymnt_flag 应为 0 或 1")
        expect(
            row["trt_enjymnt_flag"] == "1" or bool(row["trt_chk_rslt"]),
            f"{row['fund_pay_type']} 不享受待遇却没有说明原因（trt_chk_rslt）",
        )
    pooled = rows[0]
    expect(pooled["trt_enjymnt_flag"] == "1", f"统筹基金不能享受：{pooled['trt_chk_rslt']}")
    wrong = run.send("2001", {"data": {**data, "med_type": "99"}})
    expect("input.data.med_type" in str(wrong.get("err_msg")), "错误的 med_type 应被指出字段")
    return "，".join(f"{r['fund_pay_type']}={r['trt_enjymnt_flag']}" for r in rows)
