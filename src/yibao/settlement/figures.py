"""A bill's figures: one value from the rules (`Bill`, `Payment`) to the settlement row and to
the interface's answer (part of the feature's domain: pure, no SQL, no HTTP).

The field names are the settlement table's columns; the interface's names are the same without
`_fen` (`hifp_pay_fen` → `hifp_pay`). The 13 names are listed here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from yibao.kernel.money import Fen
from yibao.settlement.domain import Bill, Payment


@dataclass(frozen=True, slots=True)
class BillFigures:
    medfee_sumamt_fen: Fen  # the bill's total
    fulamt_ownpay_amt_fen: Fen  # class C and items outside the catalogue: the person pays all
    overlmt_selfpay_fen: Fen  # over a price cap
    preselfpay_amt_fen: Fen  # class B's share paid first
    inscp_scp_amt_fen: Fen  # within the policy's scope
    act_pay_dedc_fen: Fen  # deductible met by this bill
    hifp_pay_fen: Fen  # the pooled fund's payment
    fund_pay_sumamt_fen: Fen  # all funds' payment
    psn_part_amt_fen: Fen  # the person's part: account, mutual aid and cash
    acct_pay_fen: Fen  # from the person's own account
    acct_mulaid_pay_fen: Fen  # from relatives' accounts (家庭共济)
    psn_cash_pay_fen: Fen  # in cash
    balc_fen: Fen  # the person's account balance after the bill

    @classmethod
    def of(cls, bill: Bill, payment: Payment, balc_fen: Fen) -> BillFigures:
        """The figures the rules produced for a bill and its payment."""
        return cls(
            medfee_sumamt_fen=bill.medfee_sumamt_fen,
            fulamt_ownpay_amt_fen=bill.fulamt_ownpay_fen,
            overlmt_selfpay_fen=bill.overlmt_selfpay_fen,
            preselfpay_amt_fen=bill.preselfpay_fen,
            inscp_scp_amt_fen=bill.inscp_scp_fen,
            act_pay_dedc_fen=bill.act_pay_dedc_fen,
            hifp_pay_fen=bill.hifp_pay_fen,
            fund_pay_sumamt_fen=bill.fund_pay_sumamt_fen,
            psn_part_amt_fen=bill.psn_part_fen,
            acct_pay_fen=payment.acct_pay_fen,
            acct_mulaid_pay_fen=payment.acct_mulaid_pay_fen,
            psn_cash_pay_fen=payment.psn_cash_pay_fen,
            balc_fen=balc_fen,
        )

    @classmethod
    def read(cls, row: object) -> BillFigures:
        """From anything that has the columns as attributes (a settlement row)."""
        return cls(**{f.name: int(getattr(row, f.name)) for f in fields(cls)})

    def columns(self) -> dict[str, Fen]:
        """By the settlement table's column names. (Not `dataclasses.asdict`, which deep-copies
        every int and cost a settlement more than the rest of this module.)"""
        return {name: getattr(self, name) for name in _COLUMNS}

    def answer_fields(self) -> dict[str, Fen]:
        """By the interface's field names (in fen still; the answer writes them as yuan)."""
        return {field: getattr(self, name) for name, field in _ANSWER_FIELDS}

    def refund(self, balc_fen: Fen) -> BillFigures:
        """The figures of the bill's cancellation: every amount back, and the balance after."""
        back = {name: -getattr(self, name) for name in _COLUMNS}
        return replace(BillFigures(**back), balc_fen=balc_fen)


_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(BillFigures))
_ANSWER_FIELDS = tuple((name, name.removesuffix("_fen")) for name in _COLUMNS)
