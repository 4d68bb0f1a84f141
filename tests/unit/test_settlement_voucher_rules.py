"""The voucher's and the prescription authorisation's pure rules: which amounts differ (named),
the digest, and a prescription's days of validity."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from yibao.kernel.clock import CHINA_TZ
from yibao.prescriptions.domain import PrescriptionRefused, check_prescribed_at, valid_until
from yibao.settlement_vouchers.domain import VoucherData, digest, mismatches

SETTLEMENT = {
    "medfee_sumamt_fen": 6000,
    "fund_pay_sumamt_fen": 4860,
    "hifp_pay_fen": 4860,
    "acct_pay_fen": 1140,
    "acct_mulaid_pay_fen": 0,
    "psn_cash_pay_fen": 0,
}
DATA = VoucherData(
    setl_id="S1",
    psn_no="P1",
    psn_name="李明",
    bill_code="31010126",
    bill_no="0000012345",
    bill_chkcode="a1b2c3",
    bill_time=datetime(2026, 11, 25, 9, 16),
    biller="",
    rechker="",
    amounts={
        "medfee_sumamt": 6000,
        "bill_amt": 6000,
        "fund_pay_sumamt": 4860,
        "acct_pay": 1140,
        "psn_cash_pay": 0,
        "hifp_pay": None,
        "acct_mulaid_pay": None,
    },
)


def test_matching_amounts_and_the_ones_not_sent_pass() -> None:
    assert mismatches(DATA, SETTLEMENT, "input.data") == []


def test_each_differing_amount_is_named_with_both_figures() -> None:
    sent = replace(DATA, amounts={**DATA.amounts, "acct_pay": 1141, "hifp_pay": 1})
    found = mismatches(sent, SETTLEMENT, "input.data")
    assert found == [
        "input.data.hifp_pay（统筹基金支付）0.01 与结算 S1 的 48.60 不符",
        "input.data.acct_pay（个人账户支付）11.41 与结算 S1 的 11.40 不符",
    ]


def test_the_digest_is_the_documents_or_the_datas() -> None:
    assert digest(DATA, b"%PDF-") == hashlib.sha256(b"%PDF-").hexdigest()
    assert digest(DATA, None) == digest(replace(DATA), None)
    assert digest(DATA, None) != digest(replace(DATA, bill_no="0000012346"), None)


def test_a_prescription_is_valid_for_three_days_and_never_from_the_future() -> None:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=CHINA_TZ)
    check_prescribed_at(now - timedelta(days=3) + timedelta(seconds=1), now, "input.data")
    assert valid_until(now) == now + timedelta(days=3)
    with pytest.raises(PrescriptionRefused, match="已过有效期"):
        check_prescribed_at(now - timedelta(days=3), now, "input.data")
    with pytest.raises(PrescriptionRefused, match="input.data.prsc_time"):
        check_prescribed_at(now + timedelta(minutes=6), now, "input.data")
