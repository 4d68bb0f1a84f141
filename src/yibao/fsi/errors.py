"""The one table that turns business errors into infcode / err_msg (rule 5).

Every failure answers infcode -1 with HTTP 200, as national clients expect; err_msg is the
business reason in Chinese. A code listed here gets its infcode from the table; the rest -1.
"""

from __future__ import annotations

from yibao.kernel.errors import DomainError

FAILURE = -1

INFCODE_BY_CODE: dict[str, int] = {
    "gateway_refused": FAILURE,
    "sign_in_required": FAILURE,
    "institution_suspended": FAILURE,
    "invalid_message": FAILURE,
    "unknown_transaction": FAILURE,
    "invalid_amount": FAILURE,
    "invalid_bill": FAILURE,
    "unknown_person": FAILURE,
    "not_insured": FAILURE,
    "account_frozen": FAILURE,
    "insufficient_balance": FAILURE,
    "invalid_ec_token": FAILURE,
    "ec_token_used": FAILURE,
    "unknown_visit": FAILURE,
    "unknown_settlement": FAILURE,
    "settlement_cancelled": FAILURE,
    "visit_settled": FAILURE,
    "duplicate_message": FAILURE,
    "concurrent_update": FAILURE,
}

INTERNAL_ERROR = "系统内部错误，交易未完成，请稍后用新的 msgid 重试"


def infcode_for(error: DomainError) -> int:
    return INFCODE_BY_CODE.get(error.code, FAILURE)


def err_msg_for(error: DomainError) -> str:
    return error.message
