"""Property tests of the settlement calculation: the parts always add up, nobody pays past a
balance or a quota, the fund never pays past the cap."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yibao.settlement.domain import (
    CatalogueRule,
    FeeLine,
    InvalidBill,
    InvalidInstitution,
    ItemClass,
    MutualAidPayer,
    PayerFunds,
    Policy,
    YearToDate,
    assess_bill,
    check_fee_line,
    parse_count,
    parse_institution_code,
    plan_payment,
    split_line,
    times_count,
)

fen = st.integers(min_value=0, max_value=5_000_000)
bp = st.integers(min_value=0, max_value=10_000)
counts = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(500), places=4)
rules = st.one_of(
    st.none(),
    st.builds(
        CatalogueRule,
        med_list_codg=st.just("X"),
        name=st.just("药"),
        chrgitm_lv=st.sampled_from(list(ItemClass)),
        selfpay_bp=st.one_of(st.none(), bp),
        price_cap_fen=st.one_of(st.none(), fen),
    ),
)


@st.composite
def lines(draw: st.DrawFn) -> FeeLine:
    price = draw(st.integers(min_value=0, max_value=200_000))
    count = draw(counts)
    return FeeLine("1", "X", price, count, times_count(price, count))


@given(lines(), rules, bp)
def test_a_line_splits_into_parts_that_add_up(
    line: FeeLine, rule: CatalogueRule | None, region_bp: int
) -> None:
    check_fee_line(line)
    split = split_line(line, rule, region_bp)
    parts = [
        split.fulamt_ownpay_fen,
        split.overlmt_selfpay_fen,
        split.preselfpay_fen,
        split.inscp_scp_fen,
    ]
    assert all(p >= 0 for p in parts)
    assert sum(parts) == line.det_item_fee_sumamt_fen
    if rule is None or rule.chrgitm_lv == ItemClass.CLASS_C:
        assert split.fulamt_ownpay_fen == line.det_item_fee_sumamt_fen
    if rule is not None and rule.chrgitm_lv == ItemClass.CLASS_A:
        assert split.preselfpay_fen == 0


@given(st.lists(st.tuples(lines(), rules), min_size=1, max_size=8), fen, fen, fen, bp, fen, fen)
def test_the_fund_pays_above_the_deductible_and_never_past_the_cap(
    items: list[tuple[FeeLine, CatalogueRule | None]],
    deductible: int,
    used: int,
    cap: int,
    ratio: int,
    paid: int,
    region_bp: int,
) -> None:
    splits = [split_line(line, rule, region_bp % 10_001) for line, rule in items]
    so_far = YearToDate(min(used, deductible), min(paid, cap))
    bill = assess_bill(splits, so_far, Policy(deductible, ratio, cap))
    assert bill.medfee_sumamt_fen == sum(line.det_item_fee_sumamt_fen for line, _ in items)
    assert bill.medfee_sumamt_fen == (
        bill.fulamt_ownpay_fen + bill.overlmt_selfpay_fen + bill.preselfpay_fen + bill.inscp_scp_fen
    )
    assert (
        0
        <= bill.act_pay_dedc_fen
        <= min(bill.inscp_scp_fen, deductible - so_far.deductible_used_fen)
    )
    assert 0 <= bill.hifp_pay_fen <= bill.inscp_scp_fen - bill.act_pay_dedc_fen
    assert so_far.fund_paid_fen + bill.hifp_pay_fen <= cap
    assert bill.psn_part_fen + bill.fund_pay_sumamt_fen == bill.medfee_sumamt_fen


payers = st.lists(st.tuples(fen, st.one_of(st.none(), fen), st.booleans()), max_size=4).map(
    lambda rows: [
        PayerFunds(MutualAidPayer(100 + i, 200 + i, quota, i, 300 + i), balance, usable)
        for i, (balance, quota, usable) in enumerate(rows)
    ]
)


@given(fen, st.one_of(st.none(), fen), payers)
def test_the_share_is_paid_in_order_without_passing_a_balance_or_quota(
    share: int, own: int | None, funds: list[PayerFunds]
) -> None:
    payment = plan_payment(share, own, funds)
    assert payment.acct_pay_fen + payment.acct_mulaid_pay_fen + payment.psn_cash_pay_fen == share
    assert payment.acct_pay_fen >= 0 and payment.psn_cash_pay_fen >= 0
    assert payment.acct_pay_fen <= (own or 0)
    by_account = {f.payer.account_id: f for f in funds}
    for payer, amount in payment.shares:
        f = by_account[payer.account_id]
        assert f.usable and 0 < amount <= f.balance_fen
        assert payer.quota_remaining_fen is None or amount <= payer.quota_remaining_fen
    if own is not None and own < share:
        assert payment.acct_pay_fen == own  # own account first, emptied before anyone else pays


def test_a_known_outpatient_bill() -> None:
    a = FeeLine("1", "A", 2500, Decimal(2), 5000)
    b = FeeLine("2", "B", 8000, Decimal(1), 8000)
    splits = [
        split_line(a, CatalogueRule("A", "阿莫西林", ItemClass.CLASS_A, None, None), 1000),
        split_line(b, CatalogueRule("B", "缬沙坦", ItemClass.CLASS_B, None, None), 1000),
    ]
    bill = assess_bill(splits, YearToDate(149_000, 0), Policy(150_000, 7500, 60_000_000))
    assert (bill.preselfpay_fen, bill.inscp_scp_fen) == (800, 12_200)
    assert bill.act_pay_dedc_fen == 1000  # the last 10.00 of the 1500.00 deductible
    assert bill.hifp_pay_fen == 8400  # 75% of 112.00
    assert bill.psn_part_fen == 4600


def test_institution_codes() -> None:
    code = parse_institution_code("h31010400012")
    assert (code.value, code.kind.value, code.admdvs) == ("H31010400012", "H", "310104")
    for bad in ["X31010400012", "H3101040001", "H310104000123", "H31010400O12"]:
        with pytest.raises(InvalidInstitution):
            parse_institution_code(bad)


def test_counts() -> None:
    assert parse_count("1.5") == Decimal("1.5")
    assert times_count(333, Decimal("0.5")) == 167  # 1.665 rounds half up to 1.67
    for bad in ["0", "-1", "1.00001", "abc", None, True, "NaN"]:
        with pytest.raises(InvalidBill):
            parse_count(bad)


def test_counts_are_bounded_and_in_ascii_digits() -> None:
    assert parse_count(Decimal("2.50")) == Decimal("2.5")
    assert parse_count(3) == Decimal(3)
    assert parse_count("99999999.9999") == Decimal("99999999.9999")
    # '1E+30' raised InvalidOperation (a 500 at the interface); '１' was read as 1.
    for bad in ["1E+30", Decimal("1E+30"), Decimal("1E+100000000"), "１", "100000000", 10**8]:
        with pytest.raises(InvalidBill):
            parse_count(bad)
