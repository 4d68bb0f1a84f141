"""The detail audit over HTTP on both databases: 3101/3102 answer the findings of the rules in
force (national field names), 3103 records what the institution did about a warning, a blocking
finding refuses 2206/2207 and 2101/2102 with its message and writes nothing, and a settlement
keeps the findings it was told whatever the rules become later."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support import settlement_world
from yibao.auditrules import service as audit_rules
from yibao.auditrules.tables import AuditFinding
from yibao.enrolment import repository as enrolment_repository
from yibao.kernel.actors import StaffActor
from yibao.kernel.clock import china_today
from yibao.runtime import Runtime
from yibao.settlement.tables import Settlement

AMOXICILLIN = "XA01ABD075A002010100483"  # 甲类
VALSARTAN = "XC09AAD012A001010104291"  # 乙类
TONIC = "XN06AXA063A001010101005"  # 丙类
DAY = "2026-11-25 09:00:00"

MAKER = StaffActor(9001, "张审核", frozenset({"clerk"}), "医保中心")
CHECKER = StaffActor(9002, "李复核", frozenset({"reviewer"}), "医保中心")


class Audit:
    def __init__(self, runtime: Runtime, w: settlement_world.World, id_number: str) -> None:
        self.runtime, self.w, self.id_number = runtime, w, id_number
        self.psn_no = w.person.person.psn_no

    async def change(self, proposal: audit_rules.Proposal) -> None:
        """One staff member proposes, another approves (maker-checker)."""
        async with self.runtime.sessions() as s:
            row = await audit_rules.propose_rule(s, self.runtime.clock, MAKER, proposal)
            await audit_rules.decide_rule(s, self.runtime.clock, CHECKER, row.id, approve=True)

    def proposal(self, code: str, kind: str, item: str, severity: str, **params: str) -> Any:
        return audit_rules.Proposal(
            rule_code=code,
            kind=kind,
            med_list_codg=item,
            severity=severity,
            name=f"测试规则 {code}",
            params=params,
            effective_from=china_today(self.runtime.clock),
            reason="测试",
        )

    def orders(self, *lines: tuple[str, str, str]) -> dict[str, Any]:
        return {
            "data": {
                "trig_scen": "1",
                "rule_ids": [],
                "patient_dtos": [
                    {
                        "patn_id": self.psn_no,
                        "patn_name": "张伟",
                        "gend": "1",
                        "brdy": "1980-05-17",
                        "curr_mdtrt_id": "HIS0001",
                        "fsi_encounter_dtos": [
                            {
                                "mdtrt_id": "HIS0001",
                                "medins_id": self.w.hospital.code,
                                "insutype": "310",
                                "med_type": "11",
                                "dscg_main_dise_codg": "",
                                "fsi_diagnose_dtos": [
                                    {"dise_codg": "J06.900", "dise_name": "急性上呼吸道感染"}
                                ],
                                "fsi_order_dtos": [
                                    {
                                        "rx_id": rx_id,
                                        "hilist_code": code,
                                        "hilist_name": "",
                                        "cnt": cnt,
                                        "pric": "10.00",
                                        "sumamt": f"{10 * int(cnt)}.00"
                                        if cnt.isdigit()
                                        else "10.00",
                                        "drord_begn_date": DAY,
                                    }
                                    for rx_id, code, cnt in lines
                                ],
                            }
                        ],
                    }
                ],
            }
        }

    async def visit(self, code: str, cnt: int) -> tuple[str, str]:
        h = self.w.hospital
        answer = await h.call(
            "2201",
            {
                "data": {
                    "psn_no": self.psn_no,
                    "insutype": "310",
                    "mdtrt_cert_type": "02",
                    "mdtrt_cert_no": self.id_number,
                    "med_type": "11",
                }
            },
        )
        assert answer["infcode"] == 0, answer
        mdtrt_id = str(answer["output"]["data"]["mdtrt_id"])
        total = f"{10 * cnt}.00"
        line = {
            "feedetl_sn": "1",
            "mdtrt_id": mdtrt_id,
            "psn_no": self.psn_no,
            "med_list_codg": code,
            "pric": "10.00",
            "cnt": str(cnt),
            "det_item_fee_sumamt": total,
            "fee_ocur_time": DAY,
        }
        answer = await h.call("2204", {"feedetail": [line]})
        assert answer["infcode"] == 0, answer
        return mdtrt_id, total

    def bill(self, mdtrt_id: str, total: str) -> dict[str, Any]:
        return {
            "data": {
                "psn_no": self.psn_no,
                "mdtrt_cert_type": "02",
                "mdtrt_cert_no": self.id_number,
                "med_type": "11",
                "medfee_sumamt": total,
                "mdtrt_id": mdtrt_id,
                "insutype": "310",
                "acct_used_flag": "1",
            }
        }

    async def count(self, table: Any) -> int:
        async with self.runtime.sessions() as s:
            return int(await s.scalar(select(func.count()).select_from(table)) or 0)


@pytest.fixture
async def audit(runtime: Runtime, session: AsyncSession, client: httpx.AsyncClient) -> Audit:
    w = await settlement_world.build(runtime, session, client)
    id_number = enrolment_repository.decrypt_id_number(runtime.cipher, w.person.person)
    await session.close()
    await w.hospital.sign_in()
    await w.pharmacy.sign_in()
    return Audit(runtime, w, id_number)


async def test_3101_warns_and_3103_records_what_the_institution_did(audit: Audit) -> None:
    await audit.change(audit.proposal("DUP1", "duplicate_day", "*", "warn"))
    h = audit.w.hospital

    answer = await h.call("3101", audit.orders(("RX1", VALSARTAN, "1"), ("RX2", VALSARTAN, "1")))
    assert answer["infcode"] == 0, answer["err_msg"]
    [found] = answer["output"]["result"]
    assert found["rule_id"] == "DUP1" and found["sev_deg"] == "2" and found["severity"] == "warn"
    assert "同日重复收费" in found["vola_cont"] and "缬沙坦胶囊" in found["vola_cont"]
    assert [d["rx_id"] for d in found["judge_result_detail_dtos"]] == ["RX1", "RX2"]
    assert found["vola_amt"] == "20.00" and found["patn_id"] == audit.psn_no
    assert found["jr_id"].startswith(found["task_id"])
    assert found["vola_cont"] in answer["warn_msg"]

    clean = await h.call("3102", audit.orders(("RX1", VALSARTAN, "1")))
    assert clean["infcode"] == 0 and clean["output"]["result"] == [], clean

    no_reason = await h.call(
        "3103",
        {"data": {"warn_type": "1", "warns": [{"warn_rslt_id": found["jr_id"], "dspo_way": "1"}]}},
    )
    assert no_reason["infcode"] == -1 and "dspo_way_rea" in no_reason["err_msg"], no_reason
    unknown = await h.call(
        "3103",
        {"data": {"warn_type": "1", "warns": [{"warn_rslt_id": "T0", "dspo_way": "2"}]}},
    )
    assert unknown["infcode"] == -1 and "warn_rslt_id" in unknown["err_msg"], unknown
    # Another institution cannot answer for this one's finding.
    other = await audit.w.pharmacy.call(
        "3103",
        {"data": {"warn_type": "1", "warns": [{"warn_rslt_id": found["jr_id"], "dspo_way": "2"}]}},
    )
    assert other["infcode"] == -1, other

    done = await h.call(
        "3103",
        {
            "data": {
                "warn_type": "1",
                "warns": [
                    {"warn_rslt_id": found["jr_id"], "dspo_way": "1", "dspo_way_rea": "分两次服用"}
                ],
            }
        },
    )
    assert done["infcode"] == 0, done
    assert done["output"]["result"] == [
        {"warn_rslt_id": found["jr_id"], "dspo_way": "1", "dspo_way_name": "继续执行"}
    ]
    async with audit.runtime.sessions() as s:
        row = await s.scalar(select(AuditFinding).where(AuditFinding.jr_id == found["jr_id"]))
        assert row is not None and row.dspo_way == "1" and row.dspo_way_rea == "分两次服用"


async def test_3101_refuses_what_it_cannot_read(audit: Audit) -> None:
    h = audit.w.hospital
    body = audit.orders(("RX1", VALSARTAN, "1"))
    body["data"]["patient_dtos"][0]["patn_id"] = "NOBODY"
    answer = await h.call("3101", body)
    assert answer["infcode"] == -1 and "patn_id" in answer["err_msg"], answer
    body = audit.orders(("RX1", VALSARTAN, "abc"))
    answer = await h.call("3101", body)
    assert answer["infcode"] == -1 and "fsi_order_dtos[0].cnt" in answer["err_msg"], answer
    answer = await h.call("3101", {"data": {"patient_dtos": []}})
    assert answer["infcode"] == -1 and "patient_dtos" in answer["err_msg"], answer


async def test_a_blocking_finding_refuses_2206_2207_and_2102_and_writes_nothing(
    audit: Audit,
) -> None:
    await audit.change(audit.proposal("QTY1", "quantity", AMOXICILLIN, "block", max_cnt="3"))
    h = audit.w.hospital
    mdtrt_id, total = await audit.visit(AMOXICILLIN, 4)
    for infno in ("2206", "2207"):
        answer = await h.call(infno, audit.bill(mdtrt_id, total))
        assert answer["infcode"] == -1, answer
        assert answer["err_msg"].startswith("明细审核未通过"), answer
        assert "数量超限" in answer["err_msg"] and "超过限量 3" in answer["err_msg"]
    assert await audit.count(Settlement) == 0
    assert await audit.count(AuditFinding) == 0

    sale = {
        "druginfo": {
            "psn_no": audit.psn_no,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": audit.id_number,
            "med_type": "41",
            "medfee_sumamt": "40.00",
            "insutype": "310",
            "acct_used_flag": "1",
        },
        "drugdetail": [
            {
                "feedetl_sn": "1",
                "med_list_codg": AMOXICILLIN,
                "pric": "10.00",
                "cnt": "4",
                "det_item_fee_sumamt": "40.00",
            }
        ],
    }
    for infno in ("2101", "2102"):
        answer = await audit.w.pharmacy.call(infno, sale)
        assert answer["infcode"] == -1 and "数量超限" in answer["err_msg"], answer
    assert await audit.count(Settlement) == 0

    # Within the limit the same bill settles.
    mdtrt_id, total = await audit.visit(AMOXICILLIN, 3)
    answer = await h.call("2207", audit.bill(mdtrt_id, total))
    assert answer["infcode"] == 0, answer


async def test_a_settlement_keeps_the_findings_it_was_told(audit: Audit) -> None:
    await audit.change(audit.proposal("SEX1", "gender", VALSARTAN, "warn", gend="2"))
    h = audit.w.hospital
    mdtrt_id, total = await audit.visit(VALSARTAN, 1)
    answer = await h.call("2207", audit.bill(mdtrt_id, total))
    assert answer["infcode"] == 0, answer
    assert "限女性使用" in answer["warn_msg"], answer
    setl_id = answer["output"]["setlinfo"]["setl_id"]

    # The rule becomes a block: new bills are refused, the past settlement keeps what it was told.
    await audit.change(audit.proposal("SEX1", "gender", VALSARTAN, "block", gend="2"))
    mdtrt_id, total = await audit.visit(VALSARTAN, 1)
    refused = await h.call("2207", audit.bill(mdtrt_id, total))
    assert refused["infcode"] == -1 and "限女性使用" in refused["err_msg"], refused
    async with audit.runtime.sessions() as s:
        kept = await audit_rules.findings_of_settlement(s, setl_id)
    assert [(f.rule_code, f.rule_version, f.severity) for f in kept] == [("SEX1", 1, "warn")]
    query = await h.call("5203", {"data": {"psn_no": audit.psn_no, "setl_id": setl_id}})
    assert query["infcode"] == 0 and query["output"]["setlinfo"]["setl_stas"] == "1", query


async def test_the_settlement_audit_reads_history_level_and_diagnoses(audit: Audit) -> None:
    """跨机构重复开药 reads the person's settlements elsewhere; 机构等级 the institution's
    registered level; 乙类限定诊断 the visit's 2203 diagnoses."""
    for proposal in (
        audit.proposal("REP1", "repeat_supply", TONIC, "warn", days_per_unit="7"),
        audit.proposal("LV1", "hosp_lv", AMOXICILLIN, "block", hosp_lvs="三级"),
        audit.proposal("DX1", "class_b_diagnosis", VALSARTAN, "block", dise_codes="I10,I11"),
    ):
        await audit.change(proposal)
    sale = {
        "druginfo": {
            "psn_no": audit.psn_no,
            "mdtrt_cert_type": "02",
            "mdtrt_cert_no": audit.id_number,
            "med_type": "41",
            "medfee_sumamt": "20.00",
            "insutype": "310",
            "acct_used_flag": "1",
        },
        "drugdetail": [
            {
                "feedetl_sn": "1",
                "med_list_codg": AMOXICILLIN,
                "pric": "10.00",
                "cnt": "2",
                "det_item_fee_sumamt": "20.00",
            }
        ],
    }
    # The pharmacy has no level: a 三级-only item is refused there.
    refused = await audit.w.pharmacy.call("2102", sale)
    assert refused["infcode"] == -1 and "本机构等级为 未登记" in refused["err_msg"], refused

    h = audit.w.hospital
    mdtrt_id, total = await audit.visit(VALSARTAN, 2)
    blocked = await h.call("2207", audit.bill(mdtrt_id, total))
    assert blocked["infcode"] == -1 and "乙类限定用药" in blocked["err_msg"], blocked
    info = {
        "mdtrtinfo": {
            "mdtrt_id": mdtrt_id,
            "psn_no": audit.psn_no,
            "med_type": "11",
            "begntime": DAY,
        },
        "diseinfo": [
            {"diag_type": "1", "diag_srt_no": "1", "diag_code": "I10.x00", "diag_name": "高血压"}
        ],
    }
    assert (await h.call("2203", info))["infcode"] == 0
    settled = await h.call("2207", audit.bill(mdtrt_id, total))
    assert settled["infcode"] == 0, settled

    # A drug settled at the hospital, bought again at the pharmacy within the 14 days that
    # supply lasts: a warning there (and none at the hospital, where it was first dispensed).
    mdtrt_id, total = await audit.visit(TONIC, 2)
    first = await h.call("2207", audit.bill(mdtrt_id, total))
    assert first["infcode"] == 0 and "跨机构重复开药" not in (first["warn_msg"] or ""), first
    sale["drugdetail"][0]["med_list_codg"] = TONIC
    again = await audit.w.pharmacy.call("2102", sale)
    assert again["infcode"] == 0, again
    assert "跨机构重复开药" in again["warn_msg"] and "可用至" in again["warn_msg"], again


async def test_3102_without_orders_audits_the_visit_s_uploaded_fees(audit: Audit) -> None:
    await audit.change(audit.proposal("QTY2", "quantity", AMOXICILLIN, "block", max_cnt="3"))
    mdtrt_id, _ = await audit.visit(AMOXICILLIN, 4)
    body = audit.orders()
    encounter = body["data"]["patient_dtos"][0]["fsi_encounter_dtos"][0]
    encounter.update({"mdtrt_id": mdtrt_id, "fsi_order_dtos": []})
    answer = await audit.w.hospital.call("3102", body)
    assert answer["infcode"] == 0, answer
    [found] = answer["output"]["result"]
    assert found["sev_deg"] == "1" and found["mdtrt_id"] == mdtrt_id
    assert [d["rx_id"] for d in found["judge_result_detail_dtos"]] == ["1"]
    # Another institution's visit is not read.
    other = await audit.w.pharmacy.call("3102", body)
    assert other["infcode"] == -1 and "fsi_order_dtos" in other["err_msg"], other
