"""Rules of 零星报销 (reimbursement claims), 争议 (disputes) and staff adjustments.

Claims
- For costs not settled directly (emergency out of area, card not at hand). A claim goes
  submitted → under_review → approved | rejected; approved → paid. The person may withdraw a
  claim before review starts, and may correct and resubmit a rejected one (it is submitted again).
- Each step keeps its time and who acted. Reviewers review, approve and reject; clerks and
  administrators record the payment. Rejections name a coded reason, with free text (required
  for "other").
- The fund's share is computed at approval by the same policy rule as a settlement: the in-scope
  amount above what is left of the yearly deductible, at the region's ratio, within the yearly cap.
- Submitting twice (a retry, a double tap) makes one claim: the client sends a request key,
  unique per person in the database.

Disputes ("这笔不是我")
- A person may dispute any record of their own account, or any look-up on 查询记录. Staff see
  the record's details. The person may freeze their own account at once while it is examined.

Adjustments (maker-checker)
- A staff adjustment or a reversal of an entry is proposed by one staff member with a reason
  and posted only when a different staff member (an administrator) approves it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from yibao.kernel.actors import StaffActor as StaffActor  # re-exported for this feature
from yibao.kernel.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from yibao.kernel.money import Fen


class ClaimStatus(StrEnum):
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    PAID = "paid"
    WITHDRAWN = "withdrawn"


STATUS_NAMES = {
    "submitted": "已提交",
    "under_review": "审核中",
    "approved": "审核通过",
    "rejected": "未通过",
    "paid": "已支付",
    "withdrawn": "已撤回",
}


class ClaimEvent(StrEnum):
    SUBMIT = "submit"
    START_REVIEW = "start_review"
    APPROVE = "approve"
    REJECT = "reject"
    PAY = "pay"
    WITHDRAW = "withdraw"
    RESUBMIT = "resubmit"


EVENT_NAMES = {
    "submit": "提交申请",
    "start_review": "开始审核",
    "approve": "审核通过",
    "reject": "审核未通过",
    "pay": "已支付",
    "withdraw": "本人撤回",
    "resubmit": "修改后重新提交",
}

_TRANSITIONS: dict[tuple[ClaimStatus | None, ClaimEvent], ClaimStatus] = {
    (None, ClaimEvent.SUBMIT): ClaimStatus.SUBMITTED,
    (ClaimStatus.SUBMITTED, ClaimEvent.START_REVIEW): ClaimStatus.UNDER_REVIEW,
    (ClaimStatus.SUBMITTED, ClaimEvent.WITHDRAW): ClaimStatus.WITHDRAWN,
    (ClaimStatus.UNDER_REVIEW, ClaimEvent.APPROVE): ClaimStatus.APPROVED,
    (ClaimStatus.UNDER_REVIEW, ClaimEvent.REJECT): ClaimStatus.REJECTED,
    (ClaimStatus.REJECTED, ClaimEvent.RESUBMIT): ClaimStatus.SUBMITTED,
    (ClaimStatus.APPROVED, ClaimEvent.PAY): ClaimStatus.PAID,
}

# Who may move a claim: the person themselves (submit, withdraw, resubmit), or staff holding one
# of these roles.
STAFF_EVENT_ROLES = {
    ClaimEvent.START_REVIEW: frozenset({"reviewer"}),
    ClaimEvent.APPROVE: frozenset({"reviewer"}),
    ClaimEvent.REJECT: frozenset({"reviewer"}),
    ClaimEvent.PAY: frozenset({"clerk", "admin"}),
}


class ClaimNotFound(NotFound):
    code = "claim_not_found"


class ClaimStateConflict(Conflict):
    code = "claim_state_conflict"


class InvalidClaim(InvalidInput):
    code = "invalid_claim"


class StaffRoleNotAllowed(PermissionDenied):
    code = "staff_role_required"


def next_status(current: ClaimStatus | None, event: ClaimEvent) -> ClaimStatus:
    target = _TRANSITIONS.get((current, event))
    if target is None:
        now = STATUS_NAMES[current] if current else "未提交"
        raise ClaimStateConflict(f"报销申请当前为「{now}」，不能{EVENT_NAMES[event]}")
    return target


def check_staff_may(event: ClaimEvent, staff: StaffActor) -> None:
    allowed = STAFF_EVENT_ROLES.get(event, frozenset())
    if not staff.roles & allowed:
        raise StaffRoleNotAllowed(f"您的岗位无权{EVENT_NAMES[event]}")


REJECTION_REASONS = {
    "R01": "材料不全",
    "R02": "票据或清单不清晰",
    "R03": "费用不属于医保支付范围",
    "R04": "该费用已直接结算或重复申请",
    "R05": "超过申报时限",
    "R06": "费用与申请人不符",
    "R99": "其他原因",
}


def check_rejection(code: str, text: str) -> tuple[str, str]:
    text = text.strip()
    if code not in REJECTION_REASONS:
        raise InvalidClaim("请选择未通过的原因")
    if code == "R99" and len(text) < 2:
        raise InvalidClaim("选择「其他原因」时请写明具体原因")
    if len(text) > 500:
        raise InvalidClaim("说明不能超过500字")
    return code, text


MED_TYPES = {
    "11": "普通门诊",
    "13": "急诊",
    "14": "门诊慢特病",
    "21": "普通住院",
    "41": "定点药店购药",
}
NOT_SETTLED_REASONS = {
    "out_of_area_emergency": "异地急诊未能直接结算",
    "no_card": "就医时未带医保卡或电子凭证",
    "system_failure": "医院系统故障未能结算",
    # 异地就医 settled in cash because the home region's platform could not be reached
    # (crossregion: the treatment region's 全额垫付); the person claims it back here.
    "home_unreachable": "异地就医时参保地平台无法连接，已全额自付",
    "other": "其他",
}


class AttachmentKind(StrEnum):
    INVOICE = "invoice"
    ITEMISED_LIST = "itemised_list"
    DIAGNOSIS = "diagnosis"


ATTACHMENT_NAMES = {
    "invoice": "门诊/住院发票",
    "itemised_list": "费用清单",
    "diagnosis": "诊断证明",
}
MAX_ATTACHMENTS = 10
_FIXMEDINS = re.compile(r"^[HP]\d{11}$")
# A claim is for costs already paid in cash: a ceiling catches a typo of extra zeros.
MAX_CLAIM_FEN = 100_000_000


@dataclass(frozen=True, slots=True)
class ClaimDraft:
    fixmedins_name: str
    fixmedins_code: str | None
    med_type: str
    begin_date: date
    end_date: date
    medfee_sumamt_fen: Fen
    fulamt_ownpay_amt_fen: Fen
    diagnosis: str
    not_settled_reason: str


def check_draft(draft: ClaimDraft, today: date) -> ClaimDraft:
    name = draft.fixmedins_name.strip()
    if not 2 <= len(name) <= 100:
        raise InvalidClaim("请填写就诊的医院或药店名称")
    code = (draft.fixmedins_code or "").strip().upper() or None
    if code is not None and not _FIXMEDINS.match(code):
        raise InvalidClaim("定点机构编码应为 H 或 P 加11位数字，如 H31010400012")
    if draft.med_type not in MED_TYPES:
        raise InvalidClaim("请选择医疗类别")
    if draft.end_date < draft.begin_date:
        raise InvalidClaim("结束日期不能早于开始日期")
    if draft.end_date > today:
        raise InvalidClaim("就诊日期不能晚于今天")
    if draft.begin_date.year < today.year - 2:
        raise InvalidClaim("只能申请两年内的费用")
    if not 0 < draft.medfee_sumamt_fen <= MAX_CLAIM_FEN:
        raise InvalidClaim("医疗费用总额应大于0且不超过100万元")
    if not 0 <= draft.fulamt_ownpay_amt_fen <= draft.medfee_sumamt_fen:
        raise InvalidClaim("全自费金额不能超过医疗费用总额")
    diagnosis = draft.diagnosis.strip()
    if not 2 <= len(diagnosis) <= 200:
        raise InvalidClaim("请填写诊断（2–200字）")
    if draft.not_settled_reason not in NOT_SETTLED_REASONS:
        raise InvalidClaim("请选择未能直接结算的原因")
    return ClaimDraft(
        fixmedins_name=name,
        fixmedins_code=code,
        med_type=draft.med_type,
        begin_date=draft.begin_date,
        end_date=draft.end_date,
        medfee_sumamt_fen=draft.medfee_sumamt_fen,
        fulamt_ownpay_amt_fen=draft.fulamt_ownpay_amt_fen,
        diagnosis=diagnosis,
        not_settled_reason=draft.not_settled_reason,
    )


def check_attachment_kinds(kinds: list[str], *, resubmission: bool) -> None:
    if len(kinds) > MAX_ATTACHMENTS:
        raise InvalidClaim(f"每次最多上传 {MAX_ATTACHMENTS} 个文件")
    if any(k not in ATTACHMENT_NAMES for k in kinds):
        raise InvalidClaim("附件类型应为发票、费用清单或诊断证明")
    if not resubmission and AttachmentKind.INVOICE not in kinds:
        raise InvalidClaim("请至少上传一张发票")


# --- the fund's share: one rule with settlement -------------------------------------------


@dataclass(frozen=True, slots=True)
class BillSplit:
    """How a bill divides (the national setlinfo fields), all in fen."""

    medfee_sumamt_fen: Fen
    fulamt_ownpay_amt_fen: Fen
    overlmt_selfpay_fen: Fen
    preselfpay_amt_fen: Fen

    @property
    def inscp_scp_amt_fen(self) -> Fen:
        return (
            self.medfee_sumamt_fen
            - self.fulamt_ownpay_amt_fen
            - self.overlmt_selfpay_fen
            - self.preselfpay_amt_fen
        )


def check_split(split: BillSplit) -> BillSplit:
    parts = (split.fulamt_ownpay_amt_fen, split.overlmt_selfpay_fen, split.preselfpay_amt_fen)
    if any(p < 0 for p in parts) or split.inscp_scp_amt_fen < 0:
        raise InvalidClaim("自费、超限价和先行自付之和不能超过医疗费用总额")
    return split


# --- disputes --------------------------------------------------------------------------------


class DisputeKind(StrEnum):
    CONSUMPTION = "consumption"  # a record of the account: 这笔不是我
    LOOKUP = "lookup"  # a look-up on 查询记录 the person does not recognise


class DisputeStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


DISPUTE_STATUS_NAMES = {"open": "处理中", "resolved": "已办结"}
DISPUTE_OUTCOMES = {
    "misuse_confirmed": "核实为冒用或违规，已移交稽核",
    "own_use": "核实为本人或授权亲属的正常使用",
    "lookup_justified": "核实为正当业务查询",
    "lookup_improper": "核实为不当查询，已移交处理",
}
DISPUTE_RESOLVE_ROLES = frozenset({"reviewer", "admin"})


class DisputeNotFound(NotFound):
    code = "dispute_not_found"


class InvalidDispute(InvalidInput):
    code = "invalid_dispute"


def check_statement(text: str) -> str:
    text = text.strip()
    if len(text) > 500:
        raise InvalidDispute("说明不能超过500字")
    return text


# --- maker-checker adjustments ----------------------------------------------------------------


class AdjustmentKind(StrEnum):
    STAFF_ADJUSTMENT = "staff_adjustment"
    REVERSAL = "reversal"


class ProposalStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"


PROPOSE_ROLES = frozenset({"clerk", "admin"})
APPROVE_ROLES = frozenset({"admin"})


class ProposalNotFound(NotFound):
    code = "proposal_not_found"


class SelfApprovalRefused(PermissionDenied):
    code = "self_approval_refused"


class InvalidProposal(InvalidInput):
    code = "invalid_proposal"


def check_proposal(kind: str, amount_fen: Fen | None, entry_id: int | None, reason: str) -> str:
    reason = reason.strip()
    if len(reason) < 4:
        raise InvalidProposal("请写明调整原因（至少4个字）")
    if kind == AdjustmentKind.STAFF_ADJUSTMENT:
        if not amount_fen:
            raise InvalidProposal("调整金额不能为零")
        if abs(amount_fen) > MAX_CLAIM_FEN:
            raise InvalidProposal("单笔调整不能超过100万元")
    elif kind == AdjustmentKind.REVERSAL:
        if entry_id is None:
            raise InvalidProposal("请指明要冲正的记账记录")
    else:
        raise InvalidProposal("调整类型应为经办调整或冲正")
    return reason


def check_roles(staff: StaffActor, roles: frozenset[str], what: str) -> None:
    if not staff.roles & roles:
        raise StaffRoleNotAllowed(f"您的岗位无权{what}")


def check_checker(proposer_staff_id: int, checker: StaffActor) -> None:
    if proposer_staff_id == checker.staff_id:
        raise SelfApprovalRefused("不能复核自己提出的调整，须由另一位管理员复核")
