"""Use cases of 异地就医 between deployments (the only functions of the feature that commit)."""

from yibao.crossregion.service.cancelling import CrossCancelled, cancel_in, reverse_in
from yibao.crossregion.service.directory import (
    directory,
    forget_directory,
    link_of,
    load_directory,
    pages_of,
    read_directory,
    served_elsewhere,
    set_home_rule,
    signer_of,
)
from yibao.crossregion.service.home import HANDLERS
from yibao.crossregion.service.home.elsewhere import PaidElsewhere, paid_elsewhere
from yibao.crossregion.service.inbound import Received, receive
from yibao.crossregion.service.reconciling import Clearing, Reconciled, clearing, reconcile
from yibao.crossregion.service.treatment import (
    CrossBill,
    CrossSettled,
    forget_policies,
    home_peer,
    home_policy,
    person_in,
    register_in,
    settle_in,
    upload_in,
)
from yibao.crossregion.service.unreachable import cash_note, deliver_records
from yibao.crossregion.service.visiting import (
    CrossCheck,
    CrossSettlementDetail,
    cancel_registration_in,
    check_in,
    record_visit_info_in,
    settlement_detail,
    withdraw_fee_batch_in,
    withdraw_registration,
    withdraw_visit_info,
)

__all__ = [
    "HANDLERS",
    "Clearing",
    "CrossBill",
    "CrossCancelled",
    "CrossCheck",
    "CrossSettled",
    "CrossSettlementDetail",
    "PaidElsewhere",
    "Received",
    "Reconciled",
    "cancel_in",
    "cancel_registration_in",
    "cash_note",
    "check_in",
    "clearing",
    "deliver_records",
    "directory",
    "forget_directory",
    "forget_policies",
    "home_peer",
    "home_policy",
    "link_of",
    "load_directory",
    "pages_of",
    "paid_elsewhere",
    "person_in",
    "read_directory",
    "receive",
    "reconcile",
    "record_visit_info_in",
    "register_in",
    "reverse_in",
    "served_elsewhere",
    "set_home_rule",
    "settle_in",
    "settlement_detail",
    "signer_of",
    "upload_in",
    "withdraw_fee_batch_in",
    "withdraw_registration",
    "withdraw_visit_info",
]
