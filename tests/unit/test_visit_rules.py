"""The rules a visit and a 2001 share in-region and across regions (settlement.visit_rules,
settlement.entitlements)."""

from __future__ import annotations

from datetime import date

import pytest

from yibao.enrolment.domain import Cover
from yibao.kernel.errors import InvalidInput
from yibao.ledger.domain import AccountState
from yibao.settlement.domain import UnknownVisit, VisitSettled, YearToDate
from yibao.settlement.entitlements import entitlements
from yibao.settlement.visit_rules import (
    Diagnosis,
    VisitInfo,
    check_diagnoses,
    check_med_type,
    check_open,
    no_such_visit,
)


def _info(*numbers: int, med_type: str = "11") -> VisitInfo:
    return VisitInfo(
        "M1",
        "P1",
        med_type,
        None,
        None,
        None,
        tuple(Diagnosis("1", n, "J06.900", "急性上呼吸道感染") for n in numbers),
    )


def test_a_visit_info_needs_distinct_diagnoses_and_the_registered_type() -> None:
    check_diagnoses(_info(1, 2))
    with pytest.raises(InvalidInput, match="不能为空"):
        check_diagnoses(_info())
    with pytest.raises(InvalidInput, match="重复"):
        check_diagnoses(_info(1, 1))
    with pytest.raises(InvalidInput, match="挂号时的医疗类别 11"):
        check_med_type(_info(1, med_type="13"), "11")


def test_only_an_open_visit_changes_and_the_refusal_says_why() -> None:
    check_open("open", "M1", doing="撤销挂号")
    with pytest.raises(UnknownVisit, match="已撤销"):
        check_open("cancelled", "M1", doing="撤销挂号")
    with pytest.raises(VisitSettled, match=r"请先撤销结算（2208）再撤销挂号"):
        check_open("settled", "M1", doing="撤销挂号")
    assert "本机构没有该参保人的就诊 mdtrt_id=M1" in str(no_such_visit("M1"))


def _funds(**change: object) -> list[tuple[str, tuple[str, ...]]]:
    args: dict[str, object] = {
        "insutype": "310",
        "cover": Cover("310", "1101", "1", "440300"),
        "institution_kind": "H",
        "med_type": "11",
        "yearly_cap_fen": 10_000,
        "so_far": YearToDate(0, 0),
        "account": AccountState(1, 1, 500, "active"),
        "today": date(2026, 12, 8),
    }
    args.update(change)
    return [(e.fund_pay_type, e.reasons) for e in entitlements(**args)]  # type: ignore[arg-type]


def test_entitlements_fund_by_fund() -> None:
    assert _funds() == [("310100", ()), ("310200", ())]
    capped = _funds(so_far=YearToDate(0, 10_000))
    assert "最高支付限额" in capped[0][1][0] and capped[1][1] == ()
    assert all("41" in r[0] for _, r in _funds(institution_kind="P"))
    assert _funds(account=AccountState(1, 1, 0, "active"))[1][1] == ("个人账户余额为 0",)
    stopped = _funds(general=("未办理异地就医备案",))
    assert all(r == ("未办理异地就医备案",) for _, r in stopped)
    assert [c for c, _ in _funds(insutype="390", cover=None, account=None)] == ["390100"]
