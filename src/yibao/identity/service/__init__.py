"""Identity use cases (the only functions that commit), split by what the person is doing:
`accounts` (registration, reset, card password), `signin` (sign-in, step-up, sessions),
`passkeys`, `staff` and `counter` (what staff do for a person at the counter). Each use case takes the Runtime and one session, and commits once."""

from yibao.identity.service.accounts import (
    account_overview,
    complete_registration,
    open_account_at_counter,
    reset_password,
    send_code,
    send_code_to_account,
    send_reset_code,
    set_card_password,
    start_registration,
    unlock_account,
)
from yibao.identity.service.common import IssuedSession, Resolved, policy_of
from yibao.identity.service.counter import reset_card_password_at_counter
from yibao.identity.service.passkeys import (
    add_passkey,
    passkey_options,
    remove_passkey,
    sign_in_with_passkey,
    step_up_with_passkey,
)
from yibao.identity.service.signin import (
    caller_check,
    confirm_caller,
    resolve_session,
    sign_in_with_code,
    sign_in_with_password,
    sign_out,
    sign_out_everywhere,
    step_up_with_card_password,
    step_up_with_code,
    touch_interval,
)
from yibao.identity.service.staff import create_staff, staff_sign_in

__all__ = [
    "IssuedSession",
    "Resolved",
    "account_overview",
    "add_passkey",
    "caller_check",
    "complete_registration",
    "confirm_caller",
    "create_staff",
    "open_account_at_counter",
    "passkey_options",
    "policy_of",
    "remove_passkey",
    "reset_card_password_at_counter",
    "reset_password",
    "resolve_session",
    "send_code",
    "send_code_to_account",
    "send_reset_code",
    "set_card_password",
    "sign_in_with_code",
    "sign_in_with_passkey",
    "sign_in_with_password",
    "sign_out",
    "sign_out_everywhere",
    "staff_sign_in",
    "start_registration",
    "step_up_with_card_password",
    "step_up_with_code",
    "step_up_with_passkey",
    "touch_interval",
    "unlock_account",
]
