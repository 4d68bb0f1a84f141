"""家庭共济 rules without a database: scope, relations, consent, states, quota."""

from __future__ import annotations

from datetime import date

import pytest

from yibao.family.domain import (
    AuthoriserFacts,
    BeneficiaryFacts,
    InvalidQuota,
    RegionPolicy,
    Status,
    StatusChangeRefused,
    check_eligibility,
    check_quota,
    move,
    needs_consent,
    place_allowed,
    quota_remaining,
)

TODAY = date(2026, 11, 25)
ME = AuthoriserFacts(1, date(1982, 6, 1), "310000", "310", "1", True, False)
SHANGHAI = RegionPolicy("310000", "上海市", near_relatives_allowed=True, scope="region")
BEIJING = RegionPolicy("110000", "北京市", near_relatives_allowed=False, scope="region")


def relative(
    relation: str, born: date = date(1955, 1, 1), admdvs: str = "310000"
) -> BeneficiaryFacts:
    return BeneficiaryFacts("王*", relation, 2, True, born, (("390", "1", admdvs),))


def codes(
    *beneficiaries: BeneficiaryFacts, me: AuthoriserFacts = ME, policy: RegionPolicy = SHANGHAI
) -> list[str]:
    return [r.code for r in check_eligibility(me, list(beneficiaries), policy, TODAY).refusals]


def test_place_scope() -> None:
    assert place_allowed("region", "310000", "310000")
    assert not place_allowed("region", "310000", "320100")
    assert place_allowed("province", "440300", "440100")
    assert not place_allowed("province", "440300", "310000")
    assert place_allowed("nationwide", "440300", "650100")


def test_relations_by_region() -> None:
    assert codes(relative("parent")) == []
    assert codes(relative("sibling", date(1985, 1, 1))) == []
    assert codes(relative("sibling", date(1985, 1, 1)), policy=BEIJING) == [
        "near_relative_not_allowed_here"
    ]
    assert codes(relative("other")) == ["relation_not_allowed"]
    assert codes(relative("nonsense")) == ["relation_not_allowed"]
    assert codes(relative("child")) == ["relation_age_mismatch"]
    assert codes(relative("grandchild", date(2010, 1, 1))) == []


def test_every_failure_is_reported_at_once() -> None:
    frozen_resident_place = AuthoriserFacts(1, date(1982, 6, 1), "310000", "310", "2", True, True)
    found = codes(relative("other", admdvs="110000"), me=frozen_resident_place)
    assert found == [
        "authoriser_enrolment_not_normal",
        "authoriser_account_frozen",
        "relation_not_allowed",
        "beneficiary_out_of_scope",
    ]
    result = check_eligibility(frozen_resident_place, [relative("other")], SHANGHAI, TODAY)
    assert all(r.remedy and r.message for r in result.refusals)


def test_consent_for_adults_with_an_account_only() -> None:
    assert needs_consent(date(2008, 11, 25), True, TODAY)  # 18 today
    assert not needs_consent(date(2008, 11, 26), True, TODAY)
    assert not needs_consent(date(1950, 1, 1), False, TODAY)


def test_state_moves() -> None:
    assert move("under_review", Status.ACTIVE) == Status.ACTIVE
    assert move("active", Status.PAUSED) == Status.PAUSED
    assert move("paused", Status.ACTIVE) == Status.ACTIVE
    for final in ("revoked", "ended", "rejected"):
        with pytest.raises(StatusChangeRefused):
            move(final, Status.ACTIVE)
    with pytest.raises(StatusChangeRefused, match="待亲属确认"):
        move("pending_consent", Status.ACTIVE)


def test_quota_bounds() -> None:
    assert check_quota(None) is None and check_quota(0) == 0
    with pytest.raises(InvalidQuota):
        check_quota(-1)
    assert quota_remaining(None, 10_000) is None
    assert quota_remaining(5_000, 7_000) == 0
