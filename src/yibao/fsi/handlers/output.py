"""The output blocks several transactions share: setlinfo, setldetail, fee results."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from yibao.enrolment.domain import InsuredPerson
from yibao.enrolment.tables import Person
from yibao.fsi.envelope import wall_time, yuan
from yibao.settlement.domain import FeeLine, ItemClass, LineSplit, SettlementMade
from yibao.settlement.figures import BillFigures
from yibao.settlement.tables import Settlement

FUND_NAMES = {
    "310100": "职工基本医疗保险统筹基金",
    "310200": "职工基本医疗保险个人账户",
    "390100": "城乡居民基本医疗保险基金",
}


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def person_block(person: Person | InsuredPerson) -> dict[str, Any]:
    return {
        "psn_no": person.psn_no,
        "psn_name": person.name,
        "psn_cert_type": "01",
        "certno": person.id_number_masked,
        "gend": person.gender,
        "brdy": person.birth_date.isoformat(),
    }


def setlinfo(
    person: Person | InsuredPerson, psn_type: str, figures: BillFigures, extra: dict[str, Any]
) -> dict[str, Any]:
    """The person, `extra`, and the bill's figures as yuan under the interface's names."""
    block = person_block(person)
    block.update(extra)
    if psn_type:
        block["psn_type"] = psn_type
    block.update({name: yuan(amount) for name, amount in figures.answer_fields().items()})
    return block


def setldetail(insutype: str, figures: BillFigures) -> list[dict[str, Any]]:
    pooled = "310100" if insutype == "310" else "390100"
    rows = [(pooled, figures.hifp_pay_fen, FUND_NAMES[pooled])]
    if figures.acct_pay_fen:
        rows.append(("310200", figures.acct_pay_fen, FUND_NAMES["310200"]))
    if figures.acct_mulaid_pay_fen:
        rows.append(("310200", figures.acct_mulaid_pay_fen, "职工个人账户家庭共济"))
    return [
        {"fund_pay_type": code, "fund_payamt": yuan(amount), "fund_pay_type_name": name}
        for code, amount, name in rows
    ]


def settlement_extra(settlement: Settlement | SettlementMade) -> dict[str, Any]:
    return {
        "setl_id": settlement.setl_id,
        "mdtrt_id": settlement.mdtrt_id,
        "insutype": settlement.insutype,
        "med_type": settlement.med_type,
        "setl_time": wall_time(settlement.setl_time),
        "medins_setl_id": settlement.msgid,
        "setl_stas": "1" if settlement.status == "settled" else "0",
    }


def line_result(
    feedetl_sn: str, total_fen: int, split: LineSplit, name: str, cnt: str, pric_fen: int
) -> dict[str, Any]:
    return {
        "feedetl_sn": feedetl_sn,
        "med_list_name": name,
        "det_item_fee_sumamt": yuan(total_fen),
        "cnt": cnt,
        "pric": yuan(pric_fen),
        "chrgitm_lv": split.chrgitm_lv.value,
        "fulamt_ownpay_amt": yuan(split.fulamt_ownpay_fen),
        "overlmt_amt": yuan(split.overlmt_selfpay_fen),
        "preselfpay_amt": yuan(split.preselfpay_fen),
        "inscp_scp_amt": yuan(split.inscp_scp_fen),
        "list_sp_item_flag": "1" if split.chrgitm_lv == ItemClass.CLASS_C else "0",
    }


def fee_upload_answer(
    splits: Sequence[tuple[FeeLine, LineSplit, str]],
) -> tuple[dict[str, Any], list[str]]:
    """2204's output (each line as priced) and its warnings: in-region and at a treatment region."""
    result = [
        line_result(
            line.feedetl_sn, line.det_item_fee_sumamt_fen, split, name, str(line.cnt), line.pric_fen
        )
        for line, split, name in splits
    ]
    return {"result": result}, [s.warning for _, s, _ in splits if s.warning]
