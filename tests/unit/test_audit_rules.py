"""The detail audit's rules (auditrules.domain): each kind finds what it should and nothing else,
versions pick the one in force on a day, limits are checked as staff type them."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibao.auditrules.domain import (
    AuditBlocked,
    Bill,
    Dispense,
    InvalidRule,
    Line,
    Rule,
    RuleVersion,
    age_on,
    check_disposal,
    check_rule,
    evaluate,
    refusal,
    rules_in_force,
)

DAY = date(2026, 11, 25)
DRUG = "XC09AAD012A001010104291"
OTHER = "XA01ABD075A002010100483"


def rule(kind: str, severity: str = "warn", item: str = DRUG, **params: str) -> Rule:
    return Rule("R1", 1, kind, item, severity, "测试规则", params, version_id=7)


def line(sn: str, code: str = DRUG, cnt: str = "1", lv: str | None = "01", day: date = DAY) -> Line:
    return Line(sn, code, "缬沙坦胶囊", Decimal(cnt), 1000 * int(Decimal(cnt)), day, lv)


def bill(*lines: Line, **over: object) -> Bill:
    fields: dict[str, object] = {
        "psn_no": "P1",
        "mdtrt_id": "M1",
        "gender": "1",
        "birth_date": date(1980, 5, 17),
        "insutype": "310",
        "fixmedins_code": "H31010400012",
        "hosp_lv": "二级甲等",
        "day": DAY,
        "diagnoses": ("J06.900",),
        "lines": lines,
        **over,
    }
    return Bill(**fields)  # type: ignore[arg-type]


def test_quantity_sums_the_item_over_the_bill() -> None:
    r = rule("quantity", "block", max_cnt="3")
    assert evaluate([r], bill(line("1", cnt="2"), line("2", cnt="1"))).findings == []
    [f] = evaluate([r], bill(line("1", cnt="2"), line("2", cnt="2"), line("3", OTHER))).findings
    assert f.blocks and f.line_ids == ("1", "2") and f.amount_fen == 4000
    assert "本次数量 4，超过限量 3" in f.message and "已拦截" in f.message
    assert refusal([f]).startswith("明细审核未通过：【数量超限·R1】缬沙坦胶囊")


def test_supply_days() -> None:
    r = rule("supply_days", days_per_unit="7", max_days="14")
    assert evaluate([r], bill(line("1", cnt="2"))).findings == []
    [f] = evaluate([r], bill(line("1", cnt="3"))).findings
    assert "本次可用 21 天，超过最长 14 天" in f.message


def test_gender_and_age() -> None:
    assert evaluate([rule("gender", gend="1")], bill(line("1"))).findings == []
    [f] = evaluate([rule("gender", gend="2")], bill(line("1"))).findings
    assert "限女性使用，参保人为男性" in f.message
    assert evaluate([rule("age", min_age="18", max_age="150")], bill(line("1"))).findings == []
    [f] = evaluate([rule("age", min_age="0", max_age="17")], bill(line("1"))).findings
    assert "参保人 46 岁" in f.message
    assert age_on(date(2000, 2, 29), date(2001, 2, 28)) == 0
    assert age_on(date(2000, 2, 29), date(2001, 3, 1)) == 1


def test_insurance_and_institution_level() -> None:
    assert evaluate([rule("insutype", insutypes="310,390")], bill(line("1"))).findings == []
    [f] = evaluate([rule("insutype", insutypes="390")], bill(line("1"))).findings
    assert "参保人险种为 310" in f.message
    assert evaluate([rule("hosp_lv", hosp_lvs="三级,二级")], bill(line("1"))).findings == []
    [f] = evaluate([rule("hosp_lv", hosp_lvs="三级")], bill(line("1"))).findings
    assert "本机构等级为 二级甲等" in f.message
    [f] = evaluate([rule("hosp_lv", hosp_lvs="三级")], bill(line("1"), hosp_lv=None)).findings
    assert "未登记" in f.message


def test_duplicate_on_one_day_per_item_and_day() -> None:
    r = rule("duplicate_day", item="*")
    b = bill(
        line("1"),
        line("2"),
        line("3", OTHER),
        line("4", OTHER, day=DAY - timedelta(days=1)),
    )
    [f] = evaluate([r], b).findings
    assert f.line_ids == ("1", "2") and "2026-11-25 重复收费 2 次" in f.message


def test_repeat_supply_elsewhere_within_its_days() -> None:
    r = rule("repeat_supply", days_per_unit="7")
    recent = Dispense(DRUG, Decimal(2), DAY - timedelta(days=10), "P31010400101")
    [f] = evaluate([r], bill(line("1"), history=(recent,))).findings
    assert "可用至 2026-11-28" in f.message
    ran_out = Dispense(DRUG, Decimal(1), DAY - timedelta(days=7), "P31010400101")
    here = Dispense(DRUG, Decimal(9), DAY - timedelta(days=1), "H31010400012")
    assert evaluate([r], bill(line("1"), history=(ran_out, here))).findings == []


def test_class_b_needs_a_listed_diagnosis() -> None:
    r = rule("class_b_diagnosis", dise_codes="I10,I11")
    [f] = evaluate([r], bill(line("1", lv="02"))).findings
    assert "限诊断 I10、I11" in f.message
    assert evaluate([r], bill(line("1", lv="02"), diagnoses=("I10.x00",))).findings == []
    assert evaluate([r], bill(line("1", lv="01"))).findings == []


def test_the_version_in_force_is_the_latest_approved_effective_one() -> None:
    def v(version: int, start: date, *, approved: bool = True, enabled: bool = True) -> RuleVersion:
        return RuleVersion(
            Rule("R1", version, "quantity", DRUG, "warn", "n", {"max_cnt": str(version)}),
            start,
            approved,
            enabled,
        )

    versions = [
        v(1, DAY - timedelta(days=30)),
        v(2, DAY + timedelta(days=1)),
        v(3, DAY, approved=False),
    ]
    assert [r.version for r in rules_in_force(versions, DAY)] == [1]
    assert [r.version for r in rules_in_force(versions, DAY + timedelta(days=1))] == [2]
    withdrawn = [*versions, v(4, DAY, enabled=False)]
    assert rules_in_force(withdrawn, DAY) == []


def test_limits_are_checked_as_typed() -> None:
    assert check_rule("R-1", "quantity", DRUG, "block", "名", {"max_cnt": " 3 "}) == {
        "max_cnt": "3"
    }
    assert check_rule("R-2", "duplicate_day", "*", "warn", "名", {}) == {}
    cases = [
        ("R 1", "quantity", DRUG, "warn", {"max_cnt": "3"}, "规则编号"),
        ("R1", "nope", DRUG, "warn", {}, "规则类型"),
        ("R1", "quantity", DRUG, "stop", {"max_cnt": "3"}, "处理方式"),
        ("R1", "quantity", "*", "warn", {"max_cnt": "3"}, "须指定一个医保目录编码"),
        ("R1", "quantity", DRUG, "warn", {"max_cnt": "-1"}, "最大数量"),
        ("R1", "quantity", DRUG, "warn", {"max_cnt": "NaN"}, "最大数量"),
        ("R1", "age", DRUG, "warn", {"min_age": "30", "max_age": "20"}, "最小年龄"),
        ("R1", "gender", DRUG, "warn", {"gend": "3"}, "限定性别"),
        ("R1", "class_b_diagnosis", DRUG, "warn", {"dise_codes": " , "}, "限定诊断"),
    ]
    for code, kind, item, severity, params, named in cases:
        with pytest.raises(InvalidRule, match=named):
            check_rule(code, kind, item, severity, "名", params)


def test_a_disposal_needs_a_reason_to_go_on_and_a_block_cannot_go_on() -> None:
    check_disposal("2", None, "warn")
    check_disposal("1", "医师确认", "warn")
    with pytest.raises(InvalidRule, match="dspo_way_rea"):
        check_disposal("1", " ", "warn")
    with pytest.raises(AuditBlocked):
        check_disposal("1", "坚持", "block")


@given(
    counts=st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=20),
    limit=st.integers(min_value=1, max_value=200),
    severity=st.sampled_from(["warn", "block"]),
)
def test_a_quantity_finding_exactly_when_the_sum_passes_the_limit(
    counts: list[int], limit: int, severity: str
) -> None:
    lines = [line(str(n), cnt=str(c)) for n, c in enumerate(counts)]
    outcome = evaluate([rule("quantity", severity, max_cnt=str(limit))], bill(*lines))
    assert bool(outcome.findings) == (sum(counts) > limit)
    for f in outcome.findings:
        assert f.amount_fen == sum(x.amount_fen for x in lines)
        assert (f in outcome.blocking) == (severity == "block")
        assert f.rule_version_id == 7


@given(days=st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=12))
def test_duplicates_name_every_repeated_line_once(days: list[int]) -> None:
    lines = [line(str(n), day=DAY - timedelta(days=d)) for n, d in enumerate(days)]
    findings = evaluate([rule("duplicate_day", item="*")], bill(*lines)).findings
    named = [sn for f in findings for sn in f.line_ids]
    assert len(named) == len(set(named))
    assert sorted(named) == sorted(str(n) for n, d in enumerate(days) if days.count(d) > 1)
