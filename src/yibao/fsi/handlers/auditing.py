"""The detail audit (明细审核): 3101 明细审核事前分析服务 (before settlement), 3102 明细审核事中分析服务
(during), 3103 事前事中服务反馈服务 (what the institution did about a finding).

Input field names are the national interface's (`patient_dtos` → `fsi_encounter_dtos` →
`fsi_diagnose_dtos`, `fsi_order_dtos`); out, `result[]` with `jr_id`, `rule_id`, `rule_name`,
`vola_cont`, `sev_deg`, `task_id` …; 3103 in `warn_type` and `warns[]` (`warn_rslt_id`,
`dspo_way`, `dspo_way_rea`). Ours: `patn_id` is the person's psn_no; `sev_deg` 1 for a finding
that blocks settlement, 2 for a warning; `severity` and `rule_version` are added to each finding.
"""

from __future__ import annotations

import json
from typing import Any

from yibao.auditrules import service
from yibao.auditrules.domain import DSPO_WAYS, SEV_DEG, WARN_TYPES
from yibao.fsi.call import Call, Reply
from yibao.fsi.envelope import Fields, InvalidMessage, yuan


def _optional_rows(fields: Fields, name: str) -> list[Fields]:
    value = fields.raw(name)
    if value is None or value == []:
        return []
    return fields.rows(name)


def _order(row: Fields) -> service.Order:
    moment = row.moment("drord_begn_date", required=False)
    return service.Order(
        rx_id=row.code("rx_id", max_len=50),
        hilist_code=row.code("hilist_code", max_len=50),
        hilist_name=row.text("hilist_name", required=False, max_len=200),
        cnt=row.count("cnt"),
        sumamt_fen=row.yuan("sumamt"),
        day=None if moment is None else moment.date(),
    )


def _encounter(row: Fields) -> service.Encounter:
    diagnoses = [d.code("dise_codg", max_len=30) for d in _optional_rows(row, "fsi_diagnose_dtos")]
    main = row.code("dscg_main_dise_codg", required=False, max_len=30)
    insutype = row.text("insutype", required=False, max_len=3)
    return service.Encounter(
        mdtrt_id=row.code("mdtrt_id", max_len=40),
        insutype=insutype or None,
        diagnoses=tuple([main, *diagnoses] if main else diagnoses),
        orders=tuple(_order(o) for o in _optional_rows(row, "fsi_order_dtos")),
    )


def _patients(call: Call) -> list[service.Patient]:
    data = call.data()
    patients = [
        service.Patient(
            patn_id=p.code("patn_id", max_len=30),
            encounters=tuple(_encounter(e) for e in p.rows("fsi_encounter_dtos")),
        )
        for p in data.rows("patient_dtos")
    ]
    if sum(len(o.orders) for p in patients for o in p.encounters) > 500:
        raise InvalidMessage("input.data 的 fsi_order_dtos 合计最多500条")
    return patients


def _result(told: service.Told) -> dict[str, Any]:
    row = told.row
    lines: list[str] = json.loads(row.line_ids)
    return {
        "jr_id": row.jr_id,
        "rule_id": row.rule_code,
        "rule_name": row.rule_name,
        "vola_cont": row.message,
        "patn_id": told.patn_id,
        "mdtrt_id": told.mdtrt_id,
        "judge_result_detail_dtos": [
            {
                "jrd_id": f"{row.jr_id}{n:03d}",
                "patn_id": told.patn_id,
                "mdtrt_id": told.mdtrt_id,
                "rx_id": line,
            }
            for n, line in enumerate(lines, start=1)
        ],
        "vola_amt": yuan(row.vola_amt_fen),
        "vola_amt_stas": "1",
        "sev_deg": SEV_DEG[row.severity],
        "vola_evid": f"{row.rule_name}（规则 {row.rule_code} 第 {row.rule_version} 版）",
        "vola_bhvr_type": row.kind,
        "task_id": told.task_id,
        "severity": row.severity,
        "rule_version": row.rule_version,
    }


async def _analyse(call: Call, trig: str) -> Reply:
    told = await service.analyse_in(
        call.session,
        call.runtime.clock,
        call.caller,
        _patients(call),
        trig=trig,
        msgid=call.envelope.msgid,
    )
    return Reply(
        {"result": [_result(t) for t in told]},
        [t.row.message for t in told],
    )


async def before(call: Call) -> Reply:
    """3101 事前: the orders before they are billed."""
    return await _analyse(call, "before")


async def during(call: Call) -> Reply:
    """3102 事中: the bill as it is being settled."""
    return await _analyse(call, "during")


async def feedback(call: Call) -> Reply:
    """3103: `{"data": {"warn_type", "warns": [{"warn_rslt_id", "dspo_way", "dspo_way_rea"}]}}`."""
    data = call.data()
    data.choice("warn_type", WARN_TYPES)
    disposals = [
        service.Disposal(
            warn_rslt_id=w.code("warn_rslt_id", max_len=40),
            dspo_way=w.choice("dspo_way", DSPO_WAYS),
            dspo_way_rea=w.text("dspo_way_rea", required=False, max_len=500) or None,
        )
        for w in data.rows("warns")
    ]
    done = await service.record_disposals_in(
        call.session, call.runtime.clock, call.caller, disposals
    )
    return Reply(
        {
            "result": [
                {
                    "warn_rslt_id": f.jr_id,
                    "dspo_way": f.dspo_way,
                    "dspo_way_name": DSPO_WAYS[f.dspo_way or "2"],
                }
                for f in done
            ]
        }
    )
