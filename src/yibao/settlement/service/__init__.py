"""Use cases of settlement: the only functions of the feature that commit (rule 3)."""

from yibao.settlement.service.catalogue import CatalogueReport, CatalogueRow, import_catalogue
from yibao.settlement.service.institutions import (
    GatewayRefused,
    NewInstitution,
    SignInRequired,
    add_institution,
    caller_by_code,
    caller_of,
    check_sign_no,
    keep_nonce,
    list_institutions,
    remember_nonce,
    rotate_token,
    sign_in,
    signed_in,
    suspend_institution,
    verify_gateway,
)
from yibao.settlement.service.messages import answer_once, stored_answer
from yibao.settlement.service.recording import Cancellation, Reversal, cancel_in, reverse_message_in
from yibao.settlement.service.settling import (
    Assessment,
    BillRequest,
    SettlementDetail,
    cancel_settlement,
    settle,
    settle_in,
    settlement_detail,
)
from yibao.settlement.service.visits import (
    check_certificate,
    find_insured,
    register_visit_in,
    upload_fees_in,
)
from yibao.settlement.service.vouchers import holder_name, issue_ec_token

__all__ = [
    "Assessment",
    "BillRequest",
    "Cancellation",
    "CatalogueReport",
    "CatalogueRow",
    "GatewayRefused",
    "NewInstitution",
    "Reversal",
    "SettlementDetail",
    "SignInRequired",
    "add_institution",
    "answer_once",
    "caller_by_code",
    "caller_of",
    "cancel_in",
    "cancel_settlement",
    "check_certificate",
    "check_sign_no",
    "find_insured",
    "holder_name",
    "import_catalogue",
    "issue_ec_token",
    "keep_nonce",
    "list_institutions",
    "register_visit_in",
    "remember_nonce",
    "reverse_message_in",
    "rotate_token",
    "settle",
    "settle_in",
    "settlement_detail",
    "sign_in",
    "signed_in",
    "stored_answer",
    "suspend_institution",
    "upload_fees_in",
    "verify_gateway",
]
