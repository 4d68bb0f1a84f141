"""Reconciling with yibao: 3201 对总账 and 3202 对明细账, on the day of the step's settlement.

The demo institution may have settled more today (an earlier run), so the steps check what holds
whatever else stands: a total of nothing is 不平, the day's settlement is not among the 3202
differences, and a settlement yibao never made is listed as the institution's only.
"""

from __future__ import annotations

import base64
import io
import zipfile

from yibao.cli.selftest.registry import BOTH, Run, expect, step

CLEARING = {"pharmacy": "41", "clinic": "11"}
STRANGER = "SELFTEST_NOT_AT_YIBAO"


def _period(run: Run) -> dict[str, str]:
    day = str(run.need("settled")["setl_time"])[:10]
    return {"stmt_begndate": day, "stmt_enddate": day, "clr_type": CLEARING[run.tier]}


@step("3201", "医药机构费用结算对总账", tiers=BOTH, order=95)
def totals(run: Run) -> str:
    settled = run.need("settled")
    data = {
        **_period(run),
        "insutype": settled["insutype"],
        "fixmedins_setl_cnt": "1",
        "medfee_sumamt": settled["medfee_sumamt"],
        "fund_pay_sumamt": settled["fund_pay_sumamt"],
        "acct_pay": settled["acct_pay"],
    }
    info = run.call("3201", {"data": data})["stmtinfo"]
    expect(info["stmt_rslt"] in {"0", "1"}, f"3201 stmt_rslt 应为 0 或 1：{info}")
    nothing = {**data, "fixmedins_setl_cnt": "0", "medfee_sumamt": "0.00",
               "fund_pay_sumamt": "0.00", "acct_pay": "0.00"}  # fmt: skip
    empty = run.call("3201", {"data": nothing})["stmtinfo"]
    expect(empty["stmt_rslt"] == "1", "今天已有结算，报 0 笔应为不平（stmt_rslt 1）")
    expect("结算笔数" in str(empty["stmt_rslt_dscr"]), "不平的说明应写明结算笔数")
    return f"本笔 {'平' if info['stmt_rslt'] == '0' else '不平（今天另有结算）'}；0 笔为不平"


@step("3202", "医药机构费用结算对明细账", tiers=BOTH, order=96)
def details(run: Run) -> str:
    settled = run.need("settled")
    lines = [
        [settled["setl_id"], settled["mdtrt_id"], settled["psn_no"], settled["medfee_sumamt"],
         settled["fund_pay_sumamt"], settled["acct_pay"], "0"],
        [STRANGER, "M0", settled["psn_no"], "1.00", "0.00", "0.00", "0"],
    ]  # fmt: skip
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("detail.txt", "".join("\t".join(x) + "\n" for x in lines))
    uploaded = run.call(
        "9101",
        {"fsUploadIn": {"filename": "3202.txt.zip", "fixmedins_code": run.client.code,
                        "in": base64.b64encode(buffer.getvalue()).decode("ascii")}},
    )  # fmt: skip
    medfee = sum(int(x[3].replace(".", "")) for x in lines)
    fund = sum(int(x[4].replace(".", "")) for x in lines)
    data = {
        **_period(run),
        "setl_optins": "",
        "file_qury_no": uploaded["file_qury_no"],
        "fixmedins_setl_cnt": str(len(lines)),
        "medfee_sumamt": f"{medfee // 100}.{medfee % 100:02d}",
        "fund_pay_sumamt": f"{fund // 100}.{fund % 100:02d}",
        "cash_payamt": "0.00",
    }
    output = run.call("3202", {"data": data})
    expect(output["stmtinfo"]["stmt_rslt"] == "1", "含一笔医保没有的结算，应为不平")
    content = run.fetch_file(output["fileinfo"]["file_qury_no"])
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        text = archive.read(archive.namelist()[0]).decode("utf-8")
    found = {row.split("\t")[2]: row.split("\t")[4] for row in text.splitlines() if row}
    expect(found.get(STRANGER) == "2", "结果文件应列出医保没有的那笔（stmt_rslt 2）")
    expect(settled["setl_id"] not in found, "当天这笔结算金额一致，不应列为差异")
    return f"{len(found)} 条差异，本笔一致"
