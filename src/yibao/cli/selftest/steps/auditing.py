"""The detail audit: 3101 明细审核事前分析, 3103 事前事中服务反馈, 3102 明细审核事中分析.

3101 sends the run's first item twice on one day (同日重复收费: a warning under the demo's rule
book); 3103 answers that warning (继续执行, with a reason); 3102 sends the run's bill as it is."""

from __future__ import annotations

from typing import Any

from yibao.cli.selftest.registry import BOTH, Run, Skipped, expect, step
from yibao.cli.selftest.steps.common import DRUGS, now_text, serial, yuan

FINDING_FIELDS = ("jr_id", "rule_id", "rule_name", "vola_cont", "sev_deg", "task_id", "mdtrt_id")


def _orders(run: Run, codes: list[str]) -> dict[str, Any]:
    batch = serial(run)
    return {
        "data": {
            "trig_scen": "1",
            "rule_ids": [],
            "patient_dtos": [
                {
                    "patn_id": run.need("psn_no"),
                    "curr_mdtrt_id": batch,
                    "fsi_encounter_dtos": [
                        {
                            "mdtrt_id": batch,
                            "insutype": run.need("insutype"),
                            "med_type": "41" if run.tier == "pharmacy" else "11",
                            "fsi_diagnose_dtos": [
                                {"dise_codg": "J06.900", "dise_name": "急性上呼吸道感染"}
                            ],
                            "fsi_order_dtos": [
                                {
                                    "rx_id": f"{batch}{n:02d}",
                                    "hilist_code": code,
                                    "hilist_name": "",
                                    "cnt": "1",
                                    "pric": yuan(1000),
                                    "sumamt": yuan(1000),
                                    "drord_begn_date": now_text(),
                                }
                                for n, code in enumerate(codes, start=1)
                            ],
                        }
                    ],
                }
            ],
        }
    }


def _items(run: Run) -> list[str]:
    return list(run.items) or [code for code, _, _ in DRUGS]


def _findings(infno: str, output: dict[str, Any]) -> list[dict[str, Any]]:
    result = output.get("result")
    expect(isinstance(result, list), f"{infno} 的 output.result 应为数组")
    assert isinstance(result, list)
    for found in result:
        missing = [name for name in FINDING_FIELDS if not found.get(name)]
        expect(not missing, f"{infno} 的违规提示缺少 {'、'.join(missing)}")
        expect(found["sev_deg"] in {"1", "2"}, f"{infno} sev_deg 应为 1 或 2")
    return result


@step("3101", "明细审核事前分析服务", tiers=BOTH, order=76)
def before(run: Run) -> str:
    first = _items(run)[0]
    findings = _findings("3101", run.call("3101", _orders(run, [first, first])))
    warnings = [f for f in findings if f["sev_deg"] == "2"]
    if warnings:
        run.keep("warn_jr_id", warnings[0]["jr_id"])
    return f"{len(findings)} 条提示" + (f"：{findings[0]['vola_cont']}" if findings else "")


@step("3103", "事前事中服务反馈服务", tiers=BOTH, order=77)
def feedback(run: Run) -> str:
    if "warn_jr_id" not in run.state:
        raise Skipped("3101 没有返回提醒类违规（服务器未配置审核规则）")
    jr_id = run.need("warn_jr_id")
    warn = {"warn_rslt_id": jr_id, "dspo_way": "1", "dspo_way_rea": "医师确认：分次服用"}
    output = run.call("3103", {"data": {"warn_type": "1", "warns": [warn]}})
    result = output.get("result") or []
    expect([r.get("warn_rslt_id") for r in result] == [jr_id], "3103 应逐条回应 warn_rslt_id")
    return f"{jr_id}：继续执行"


@step("3102", "明细审核事中分析服务", tiers=BOTH, order=79)
def during(run: Run) -> str:
    findings = _findings("3102", run.call("3102", _orders(run, _items(run))))
    blocking = [f for f in findings if f["sev_deg"] == "1"]
    expect(not blocking, f"3102 拦截了自测账单：{blocking[0]['vola_cont'] if blocking else ''}")
    return f"{len(findings)} 条提示"
