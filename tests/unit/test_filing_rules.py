"""Rules of 异地就医备案 (filings.domain): kinds, dates, documents, conflicts, change limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from yibao.filings.domain import (
    Channel,
    DocumentKind,
    Filing,
    FilingConflict,
    FilingKind,
    FilingNotAllowed,
    FilingState,
    InvalidFiling,
    RegionFilingRules,
    ShownState,
    add_months,
    check_admdvs,
    check_may_end,
    check_new_filing,
    check_no_conflict,
    covers_region,
    parse_kind,
    temporary_end,
)

TODAY = date(2026, 12, 7)
RULES = RegionFilingRules()


def new(kind: FilingKind, **over: object) -> date | None:
    args: dict[str, object] = {
        "kind": kind,
        "insured_admdvs": "310000",
        "treatment_admdvs": "460200",
        "begins": TODAY,
        "today": TODAY,
        "retired": False,
        "rules": RULES,
        "document_kind": None,
        "referral_medins_code": None,
    }
    args.update(over)
    return check_new_filing(**args)  # type: ignore[arg-type]


def filing(**over: object) -> Filing:
    base = Filing(
        id=1,
        person_id=7,
        kind=FilingKind.LONG_TERM_RESIDENT,
        insured_admdvs="310000",
        treatment_admdvs="460200",
        treatment_name="海南省三亚市",
        begins=date(2026, 1, 10),
        ends=None,
        state=FilingState.ACTIVE,
        channel=Channel.APP,
        document_kind=DocumentKind.DECLARATION,
        document_note="三亚市吉阳区某路1号",
        referral_medins_code=None,
        replaces_id=None,
        serial="BA1",
    )
    return replace(base, **over)  # type: ignore[arg-type]


def test_a_temporary_filing_holds_six_months_and_a_long_term_one_is_open_ended() -> None:
    assert new(FilingKind.OTHER_TEMPORARY) == date(2027, 6, 6)
    assert new(FilingKind.LONG_TERM_RESIDENT, document_kind=DocumentKind.DECLARATION) is None
    longer = RegionFilingRules(temporary_months=12)
    assert temporary_end(date(2026, 1, 31), longer) == date(2027, 1, 30)


def test_the_region_may_not_make_a_temporary_filing_shorter_than_six_months() -> None:
    with pytest.raises(InvalidFiling, match="至少六个月"):
        RegionFilingRules(temporary_months=3)


def test_add_months_keeps_to_the_end_of_short_months() -> None:
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)


def test_documents_each_kind_needs() -> None:
    with pytest.raises(InvalidFiling, match="转诊单"):
        new(FilingKind.REFERRAL)
    assert new(FilingKind.REFERRAL, document_kind=DocumentKind.REFERRAL, referral_medins_code="H31")
    with pytest.raises(InvalidFiling, match="居住或工作证明"):
        new(FilingKind.WORKING_AWAY)
    assert new(FilingKind.WORKING_AWAY, document_kind=DocumentKind.UPLOAD) is None
    assert new(FilingKind.EMERGENCY) is not None


def test_only_retirees_file_a_retiree_resettlement() -> None:
    with pytest.raises(FilingNotAllowed, match="退休人员"):
        new(FilingKind.RETIREE_RESETTLED, document_kind=DocumentKind.DECLARATION)
    assert (
        new(FilingKind.RETIREE_RESETTLED, document_kind=DocumentKind.DECLARATION, retired=True)
        is None
    )


def test_the_region_decides_which_kinds_it_takes() -> None:
    rules = RegionFilingRules(allowed_kinds=frozenset({FilingKind.REFERRAL}))
    with pytest.raises(FilingNotAllowed, match="其他临时外出"):
        new(FilingKind.OTHER_TEMPORARY, rules=rules)


def test_treatment_must_be_outside_the_insured_region() -> None:
    with pytest.raises(InvalidFiling, match="参保地之外"):
        new(FilingKind.OTHER_TEMPORARY, treatment_admdvs="310000")
    with pytest.raises(InvalidFiling, match="参保地之外"):
        new(FilingKind.OTHER_TEMPORARY, treatment_admdvs="310104")
    with pytest.raises(InvalidFiling, match="6位"):
        check_admdvs("46020")


def test_only_an_emergency_may_be_filed_afterwards() -> None:
    with pytest.raises(InvalidFiling, match="不能早于今天"):
        new(FilingKind.OTHER_TEMPORARY, begins=date(2026, 12, 6))
    assert new(FilingKind.EMERGENCY, begins=date(2026, 11, 7))
    with pytest.raises(InvalidFiling, match="2026-11-07"):
        new(FilingKind.EMERGENCY, begins=date(2026, 11, 6))


def test_a_province_or_prefecture_filing_covers_its_regions() -> None:
    assert covers_region("460000", "460202")
    assert covers_region("460200", "460202")
    assert not covers_region("460200", "460100")
    assert not covers_region("460202", "460200")
    f = filing(treatment_admdvs="460000")
    assert f.covers("460202", date(2026, 3, 1))
    assert not f.covers("460202", date(2026, 1, 9))
    assert not replace(f, state=FilingState.CANCELLED).covers("460202", date(2026, 3, 1))


def test_shown_states() -> None:
    temporary = filing(kind=FilingKind.OTHER_TEMPORARY, ends=date(2026, 7, 9))
    assert temporary.shown_state(TODAY) is ShownState.EXPIRED
    assert filing().shown_state(TODAY) is ShownState.ACTIVE
    assert filing(begins=date(2027, 1, 1)).shown_state(TODAY) is ShownState.NOT_YET
    assert filing(state=FilingState.CHANGED).shown_state(TODAY) is ShownState.CHANGED


def test_one_long_term_filing_and_no_overlap_in_one_region() -> None:
    existing = [filing()]
    with pytest.raises(FilingConflict, match="变更"):
        check_no_conflict(
            kind=FilingKind.WORKING_AWAY,
            treatment_admdvs="440300",
            begins=TODAY,
            ends=None,
            existing=existing,
            today=TODAY,
        )
    with pytest.raises(FilingConflict, match="同一就医地"):
        check_no_conflict(
            kind=FilingKind.OTHER_TEMPORARY,
            treatment_admdvs="460202",
            begins=TODAY,
            ends=date(2027, 6, 6),
            existing=existing,
            today=TODAY,
        )
    check_no_conflict(  # elsewhere, temporary: fine
        kind=FilingKind.OTHER_TEMPORARY,
        treatment_admdvs="440300",
        begins=TODAY,
        ends=date(2027, 6, 6),
        existing=existing,
        today=TODAY,
    )
    check_no_conflict(  # the one being changed does not count
        kind=FilingKind.WORKING_AWAY,
        treatment_admdvs="440300",
        begins=TODAY,
        ends=None,
        existing=existing,
        today=TODAY,
        replacing=1,
    )


def test_a_long_term_filing_changes_only_after_the_regions_minimum() -> None:
    young = filing(begins=date(2026, 7, 1))
    with pytest.raises(FilingNotAllowed, match="2027-01-01"):
        check_may_end(young, TODAY, RULES, "变更")
    check_may_end(young, TODAY, RegionFilingRules(change_after_months=3), "变更")
    check_may_end(filing(begins=date(2027, 1, 1)), TODAY, RULES, "撤销")  # not begun yet
    check_may_end(
        filing(kind=FilingKind.OTHER_TEMPORARY, ends=date(2027, 1, 1)), TODAY, RULES, "撤销"
    )
    with pytest.raises(FilingConflict, match="已撤销"):
        check_may_end(filing(state=FilingState.CANCELLED), TODAY, RULES, "撤销")


def test_kinds_parse_by_code_or_chinese_name() -> None:
    assert parse_kind("异地转诊") is FilingKind.REFERRAL
    assert parse_kind("working_away") is FilingKind.WORKING_AWAY
    with pytest.raises(InvalidFiling, match="备案类型"):
        parse_kind("出国")
