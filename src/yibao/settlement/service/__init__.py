"""Use cases of settlement: the only functions of the feature that commit (rule 3)."""

from yibao.settlement.service.catalogue import CatalogueReport, CatalogueRow, import_catalogue
from yibao.settlement.service.institutions import (
    NewInstitution,
    add_institution,
    list_institutions,
    rotate_token,
    sign_in,
    suspend_institution,
    verify_gateway,
)
from yibao.settlement.service.messages import answer_once
from yibao.settlement.service.recording import Reversal, cancel_in, reverse_message_in
from yibao.settlement.service.settling import (
    Assessment,
    BillRequest,
    SettlementDetail,
    cancel_settlement,
    check_certificate,
    find_insured,
    register_visit_in,
    settle,
    settle_in,
    settlement_detail,
    upload_fees_in,
)
from yibao.settlement.service.vouchers import issue_ec_token

__all__ = [
    "Assessment",
    "BillRequest",
    "CatalogueReport",
    "CatalogueRow",
    "NewInstitution",
    "Reversal",
    "SettlementDetail",
    "add_institution",
    "answer_once",
    "cancel_in",
    "cancel_settlement",
    "check_certificate",
    "find_insured",
    "import_catalogue",
    "issue_ec_token",
    "list_institutions",
    "register_visit_in",
    "reverse_message_in",
    "rotate_token",
    "settle",
    "settle_in",
    "settlement_detail",
    "sign_in",
    "suspend_institution",
    "upload_fees_in",
    "verify_gateway",
]
