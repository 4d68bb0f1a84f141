"""Rules of the personal-account ledger.

- Every change to an account is an entry: integer fen, signed (credits > 0, debits < 0), with its
  kind, its counterparty, its time and a unique idempotency key. Entries are never edited or
  deleted; a correction is a reversing entry (冲正) that names the entry it undoes.
- The balance is the sum of the entries and never goes below zero. The account row carries the
  running balance, and each entry records the balance after it, so the database itself can
  refuse a negative balance (CHECK constraints), not only this code.
- A frozen account (冻结, for misuse) pays nothing: debits are refused until staff unfreeze it
  with a recorded reason. Credits and reversals of debits still arrive while frozen.
- An entry can be reversed once, and a reversal is not reversed again (post a new entry instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from yibao.kernel.errors import Conflict, DomainError, InvalidInput, NotFound
from yibao.kernel.money import Fen, format_yuan


class EntryKind(StrEnum):
    CONTRIBUTION_CREDIT = "contribution_credit"  # 划入
    SETTLEMENT_DEBIT = "settlement_debit"  # 消费
    MUTUAL_AID_DEBIT = "mutual_aid_debit"  # 家庭共济支付
    REVERSAL = "reversal"  # 冲正 / 撤销
    STAFF_ADJUSTMENT = "staff_adjustment"  # 经办调整
    RELATIVE_CONTRIBUTION_DEBIT = "relative_contribution_debit"  # 代缴亲属居民医保
    INTEREST_CREDIT = "interest_credit"  # 年度结息 (where the region's rules pay interest)


ENTRY_KIND_NAMES = {
    EntryKind.CONTRIBUTION_CREDIT: "缴费划入",
    EntryKind.SETTLEMENT_DEBIT: "医药消费",
    EntryKind.MUTUAL_AID_DEBIT: "家庭共济支付",
    EntryKind.REVERSAL: "冲正退回",
    EntryKind.STAFF_ADJUSTMENT: "经办调整",
    EntryKind.RELATIVE_CONTRIBUTION_DEBIT: "代缴居民医保",
    EntryKind.INTEREST_CREDIT: "年度结息",
}

CREDIT_KINDS = frozenset({EntryKind.CONTRIBUTION_CREDIT, EntryKind.INTEREST_CREDIT})
DEBIT_KINDS = frozenset(
    {
        EntryKind.SETTLEMENT_DEBIT,
        EntryKind.MUTUAL_AID_DEBIT,
        EntryKind.RELATIVE_CONTRIBUTION_DEBIT,
    }
)


class AccountStatus(StrEnum):
    ACTIVE = "active"
    FROZEN = "frozen"


@dataclass(frozen=True, slots=True)
class AccountState:
    """A personal account's row as a payment reads it (locked, on the settling path)."""

    id: int
    person_id: int
    balance_fen: Fen
    status: str


class NoPersonalAccount(NotFound):
    code = "no_personal_account"


class InsufficientBalance(DomainError):
    code = "insufficient_balance"


class AccountFrozen(DomainError):
    code = "account_frozen"


class InvalidEntry(InvalidInput):
    code = "invalid_entry"


class AlreadyReversed(Conflict):
    code = "already_reversed"


class UnknownEntry(NotFound):
    code = "unknown_entry"


def check_amount_sign(kind: EntryKind, amount_fen: Fen) -> None:
    if amount_fen == 0:
        raise InvalidEntry("记账金额不能为零")
    if kind in CREDIT_KINDS and amount_fen < 0:
        raise InvalidEntry(f"{ENTRY_KIND_NAMES[kind]}应为正数")
    if kind in DEBIT_KINDS and amount_fen > 0:
        raise InvalidEntry(f"{ENTRY_KIND_NAMES[kind]}应为负数")


def next_balance(balance_fen: Fen, kind: EntryKind, amount_fen: Fen, status: str) -> Fen:
    """The balance after posting, or the business reason it cannot be posted."""
    check_amount_sign(kind, amount_fen)
    # A frozen account still receives money; only outgoing payments stop.
    if amount_fen < 0 and status == AccountStatus.FROZEN and kind != EntryKind.REVERSAL:
        raise AccountFrozen("个人账户已冻结，暂停支付；请联系医保经办机构申诉或解冻")
    after = balance_fen + amount_fen
    if after < 0:
        raise InsufficientBalance(
            f"个人账户余额不足：余额 {format_yuan(balance_fen)} 元，需支付 {format_yuan(-amount_fen)} 元"
        )
    return after


def reversal_amount(original_kind: EntryKind, original_amount_fen: Fen) -> Fen:
    if original_kind == EntryKind.REVERSAL:
        raise InvalidEntry("冲正记录不能再次冲正，请另行调整")
    return -original_amount_fen
