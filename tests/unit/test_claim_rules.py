"""Claims, disputes and adjustments as pure rules; uploads as bytes in, bytes out."""

from __future__ import annotations

import io
from datetime import date

import pytest
from PIL import Image

from tests.support.documents import jpeg_with_exif, pdf, png
from yibao.claims.domain import (
    BillSplit,
    ClaimDraft,
    ClaimEvent,
    ClaimStateConflict,
    ClaimStatus,
    InvalidClaim,
    InvalidProposal,
    SelfApprovalRefused,
    StaffActor,
    StaffRoleNotAllowed,
    check_attachment_kinds,
    check_checker,
    check_draft,
    check_proposal,
    check_rejection,
    check_split,
    check_staff_may,
    next_status,
)
from yibao.kernel.uploads import DocumentType, UploadRefused, clean, label, sniff
from yibao.settlement.domain import Policy, YearToDate, fund_share

S = ClaimStatus
E = ClaimEvent
CLERK = StaffActor(1, "张三", frozenset({"clerk"}), "徐汇窗口")
REVIEWER = StaffActor(2, "李四", frozenset({"reviewer"}), "徐汇窗口")
ADMIN = StaffActor(3, "王五", frozenset({"admin"}), "市医保中心")


def test_the_happy_path_and_the_side_roads() -> None:
    assert next_status(None, E.SUBMIT) == S.SUBMITTED
    assert next_status(S.SUBMITTED, E.START_REVIEW) == S.UNDER_REVIEW
    assert next_status(S.UNDER_REVIEW, E.APPROVE) == S.APPROVED
    assert next_status(S.APPROVED, E.PAY) == S.PAID
    assert next_status(S.SUBMITTED, E.WITHDRAW) == S.WITHDRAWN
    assert next_status(S.UNDER_REVIEW, E.REJECT) == S.REJECTED
    assert next_status(S.REJECTED, E.RESUBMIT) == S.SUBMITTED


@pytest.mark.parametrize(
    ("status", "event"),
    [
        (S.UNDER_REVIEW, E.WITHDRAW),  # too late: review has started
        (S.SUBMITTED, E.APPROVE),  # approval needs a review first
        (S.APPROVED, E.REJECT),
        (S.PAID, E.PAY),  # never paid twice
        (S.WITHDRAWN, E.RESUBMIT),
        (S.REJECTED, E.PAY),
        (S.SUBMITTED, E.SUBMIT),
    ],
)
def test_refused_transitions(status: ClaimStatus, event: ClaimEvent) -> None:
    with pytest.raises(ClaimStateConflict):
        next_status(status, event)


def test_roles() -> None:
    with pytest.raises(StaffRoleNotAllowed):
        check_staff_may(E.APPROVE, CLERK)
    with pytest.raises(StaffRoleNotAllowed):
        check_staff_may(E.PAY, REVIEWER)
    check_staff_may(E.APPROVE, REVIEWER)
    check_staff_may(E.PAY, CLERK)
    assert StaffActor(9, "x", frozenset({"clerk", "admin"}), "o").role == "admin"


def test_rejection_needs_a_coded_reason() -> None:
    assert check_rejection("R01", " 缺诊断证明 ") == ("R01", "缺诊断证明")
    with pytest.raises(InvalidClaim):
        check_rejection("R42", "")
    with pytest.raises(InvalidClaim):
        check_rejection("R99", "")


def _draft(**changes: object) -> ClaimDraft:
    base: dict[str, object] = dict(
        fixmedins_name="北京协和医院",
        fixmedins_code="h11010100001",
        med_type="13",
        begin_date=date(2026, 11, 1),
        end_date=date(2026, 11, 2),
        medfee_sumamt_fen=123_456,
        fulamt_ownpay_amt_fen=3_456,
        diagnosis="急性阑尾炎",
        not_settled_reason="out_of_area_emergency",
    )
    base.update(changes)
    return ClaimDraft(**base)  # type: ignore[arg-type]


def test_draft_checks() -> None:
    today = date(2026, 11, 25)
    assert check_draft(_draft(), today).fixmedins_code == "H11010100001"
    for bad in (
        {"end_date": date(2026, 10, 1)},
        {"end_date": date(2026, 11, 26)},
        {"medfee_sumamt_fen": 0},
        {"fulamt_ownpay_amt_fen": 200_000},
        {"fixmedins_code": "X123"},
        {"med_type": "99"},
        {"diagnosis": " "},
        {"not_settled_reason": "lazy"},
    ):
        with pytest.raises(InvalidClaim):
            check_draft(_draft(**bad), today)
    with pytest.raises(InvalidClaim):
        check_attachment_kinds(["diagnosis"], resubmission=False)
    check_attachment_kinds(["diagnosis"], resubmission=True)
    with pytest.raises(InvalidClaim):
        check_attachment_kinds(["invoice", "selfie"], resubmission=False)


def test_the_split_feeds_settlements_policy_rule() -> None:
    split = check_split(BillSplit(500_000, 20_000, 10_000, 5_000))
    assert split.inscp_scp_amt_fen == 465_000
    policy = Policy(deductible_fen=150_000, fund_ratio_bp=7_000, yearly_cap_fen=50_000_000)
    # 465000 in scope, 150000 deductible, 70% of 315000 = 220500.
    assert fund_share(split.inscp_scp_amt_fen, YearToDate(0, 0), policy).hifp_pay_fen == 220_500
    with pytest.raises(InvalidClaim):
        check_split(BillSplit(1_000, 600, 600, 0))


def test_maker_checker_rules() -> None:
    with pytest.raises(SelfApprovalRefused):
        check_checker(3, ADMIN)
    check_checker(1, ADMIN)
    assert (
        check_proposal("staff_adjustment", -500, None, " 重复划入，予以扣回 ")
        == "重复划入，予以扣回"
    )
    for bad in (
        ("staff_adjustment", 0, None, "原因写清楚了"),
        ("reversal", None, None, "原因写清楚了"),
        ("staff_adjustment", 100, None, "短"),
        ("gift", 100, None, "原因写清楚了"),
    ):
        with pytest.raises(InvalidProposal):
            check_proposal(*bad)


def test_uploads_are_sniffed_from_bytes() -> None:
    assert sniff(jpeg_with_exif()) == DocumentType.JPEG
    assert sniff(png()) == DocumentType.PNG
    assert sniff(pdf()) == DocumentType.PDF
    for refused in (b"GIF89a....", b"<html><script>", b"PK\x03\x04zip"):
        with pytest.raises(UploadRefused):
            clean(refused, max_bytes=10_000)


def test_images_are_reencoded_without_metadata() -> None:
    original = jpeg_with_exif()
    assert b"SecretPhoneMaker" in original
    cleaned = clean(original + b"<?php system($_GET[1]); ?>", max_bytes=1_000_000)
    assert cleaned.content_type == DocumentType.JPEG
    assert b"SecretPhoneMaker" not in cleaned.data and b"<?php" not in cleaned.data
    with Image.open(io.BytesIO(cleaned.data)) as image:
        assert image.size == (64, 48) and not image.getexif()
    assert clean(png(), max_bytes=1_000_000).content_type == DocumentType.PNG


def test_size_limits_broken_images_and_active_pdfs_are_refused() -> None:
    with pytest.raises(UploadRefused, match="不能超过"):
        clean(jpeg_with_exif(), max_bytes=100)
    with pytest.raises(UploadRefused, match="损坏"):
        clean(b"\xff\xd8\xff" + b"\x00" * 200, max_bytes=10_000)
    with pytest.raises(UploadRefused, match="脚本"):
        clean(pdf(b"3 0 obj << /S /JavaScript /JS (app.alert(1)) >> endobj\n"), max_bytes=10_000)
    assert clean(pdf(), max_bytes=10_000).data == pdf()
    assert label("C:\\Users\\me\\发票\x00.jpg") == "发票.jpg"
