"""Registration, password reset, the card query password, staff unlock, the account overview.

Split by what the person is doing (rule 9): `codes` (SMS codes), `registration` (on the phone or
at the counter), `passwords` (reset, card password, unlock) and `overview`.
"""

from yibao.identity.service.accounts.codes import send_code, send_code_to_account, send_reset_code
from yibao.identity.service.accounts.overview import account_overview
from yibao.identity.service.accounts.passwords import (
    reset_password,
    set_card_password,
    unlock_account,
)
from yibao.identity.service.accounts.registration import (
    complete_registration,
    open_account_at_counter,
    start_registration,
)

__all__ = [
    "account_overview",
    "complete_registration",
    "open_account_at_counter",
    "reset_password",
    "send_code",
    "send_code_to_account",
    "send_reset_code",
    "set_card_password",
    "start_registration",
    "unlock_account",
]
