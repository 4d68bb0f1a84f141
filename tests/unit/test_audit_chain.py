"""The hash chain as pure rules: what a change, a gap or a reorder looks like."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from yibao.audit.domain import (
    GENESIS_HASH,
    AuditContent,
    ChainCheck,
    InvalidAuditRecord,
    canonical_detail,
    lookup_line,
    record_hash,
)

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def _chain(n: int) -> list[tuple[AuditContent, str]]:
    out: list[tuple[AuditContent, str]] = []
    prev = GENESIS_HASH
    for i in range(1, n + 1):
        content = AuditContent(
            seq=i,
            occurred_at=T0 + timedelta(seconds=i),
            actor_type="staff",
            actor_id="3",
            actor_name="张三",
            role="clerk",
            office="窗口",
            action="person.lookup",
            subject_person_id=i,
            reason="counter_visit",
            detail_json=canonical_detail({"n": i}),
            prev_hash=prev,
        )
        prev = record_hash(content)
        out.append((content, prev))
    return out


def _check(rows: list[tuple[AuditContent, str]]) -> ChainCheck:
    check = ChainCheck()
    for content, digest in rows:
        check.feed(content.seq * 10, content, digest)
    return check


def test_intact_chain_passes_and_head_must_match() -> None:
    rows = _chain(5)
    check = _check(rows)
    check.finish(5, rows[-1][1])
    assert check.first_break is None and check.checked == 5
    stale = _check(rows[:4])
    stale.finish(5, rows[-1][1])
    assert stale.first_break is not None and stale.first_break.record_id is None


def test_changed_content_is_found_at_that_row() -> None:
    rows = _chain(5)
    content, digest = rows[2]
    rows[2] = (replace(content, reason="hotline_call"), digest)
    broken = _check(rows).first_break
    assert broken is not None and (broken.record_id, broken.seq) == (30, 3)
    assert "修改" in broken.problem


def test_rehashed_row_breaks_the_next_link() -> None:
    rows = _chain(5)
    forged = replace(rows[1][0], office="别处")
    rows[1] = (forged, record_hash(forged))
    broken = _check(rows).first_break
    assert broken is not None and broken.seq == 3 and "前一条" in broken.problem


def test_gap_is_found() -> None:
    rows = _chain(5)
    del rows[1]
    broken = _check(rows).first_break
    assert broken is not None and broken.seq == 3 and "序号" in broken.problem


def test_hash_does_not_depend_on_key_order_or_timezone() -> None:
    assert canonical_detail({"b": 1, "a": "二"}) == canonical_detail({"a": "二", "b": 1})
    content = _chain(1)[0][0]
    shifted = replace(
        content, occurred_at=content.occurred_at.astimezone(timezone(timedelta(hours=8)))
    )
    assert record_hash(content) == record_hash(shifted)
    with pytest.raises(InvalidAuditRecord):
        canonical_detail({"when": T0})


def test_person_sees_staff_masked_partner_named() -> None:
    staff = lookup_line(1, T0, "staff", "欧阳娜娜", "clerk", "徐汇窗口", "person.lookup", "dispute")
    partner = lookup_line(2, T0, "partner", "某健康公司", "partner", "", "partner.read", "余额查询")
    assert (staff.who, staff.reason, staff.role_name) == ("欧***", "争议处理", "经办人员")
    assert partner.who == "某健康公司"
