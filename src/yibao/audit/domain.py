"""Rules of the audit trail (审计日志).

- Every staff action and every read of a person's data by staff or a partner is one record:
  who (actor type, id, name, role, office), when, what (action), about whom, why (reason).
- Records are append-only and chained: each record's hash covers its own content and the
  previous record's hash, so a record changed, removed or inserted afterwards breaks the chain
  from that point on, and `verify` names the first broken record.
- Records are kept at least `retention_days` (186 by default, a setting). Older records leave
  the database only through an archive: an export file whose last hash is recorded as the new
  anchor of the chain, so what remains still verifies and nothing disappears silently.
- A person sees every look-up of their own data (查询记录), by staff, a partner, or another person
  (a 家庭共济 applicant's 资格查询 with their ID number); staff and persons' names are masked.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from yibao.kernel.errors import DomainError, InvalidInput, PermissionDenied
from yibao.kernel.idnumber import mask_name

GENESIS_HASH = "0" * 64


class ActorType(StrEnum):
    STAFF = "staff"
    PARTNER = "partner"
    PERSON = "person"
    SYSTEM = "system"


ROLE_NAMES = {
    "clerk": "经办人员",
    "reviewer": "审核人员",
    "admin": "管理员",
    "partner": "合作机构",
    "family_applicant": "家庭共济申请人",
    "hotline_caller": "本人（热线自助语音）",
    "kiosk": "本人自助查询",  # a device (actor type system) the person used, named by its place
}

# Why a staff member looks a person up: chosen before the search (查询事由).
LOOKUP_REASONS = {
    "counter_visit": "窗口办理",
    "hotline_call": "热线来电",
    "claim_review": "报销审核",
    "dispute": "争议处理",
    "family_review": "家庭共济审核",
    "account_unlock": "账户解锁",
    "misuse": "违规使用处理",
}

ACTION_NAMES = {
    "person.search": "查询参保人（未找到）",
    "person.lookup": "查询参保人",
    "person.view": "查看参保信息",
    "person.unmask": "查看完整证件号码或手机号",
    "account.view": "查看个人账户",
    "statement.print": "打印结算单",
    "claim.view": "查看报销申请",
    "claim.document_view": "查看报销材料",
    "claim.review": "受理报销审核",
    "claim.approve": "报销审核通过",
    "claim.reject": "报销审核不通过",
    "claim.pay": "报销支付",
    "dispute.view": "查看争议",
    "dispute.resolve": "处理争议",
    "adjustment.propose": "提出账户调整",
    "adjustment.approve": "复核通过账户调整",
    "adjustment.reject": "复核退回账户调整",
    "crediting.propose": "提交划账",
    "crediting.approve": "复核通过划账",
    "crediting.reject": "复核退回划账",
    "crediting.report": "下载划账拒绝明细",
    "account.unfreeze": "解除账户冻结",
    "account.unlock": "解锁网上账户",
    "card_password.reset": "重置医保卡密码",
    "partner.read": "合作机构查询",
    "partner.propose": "登记合作应用",
    "partner.approve": "复核通过合作应用",
    "partner.reject": "复核退回合作应用",
    "partner.suspend": "停用合作应用",
    "partner.rotate": "更换合作应用密钥",
    "partner.add": "命令行添加合作应用",
    "family.case_view": "查看家庭共济申请",
    "family.document_view": "查看家庭共济申请材料",
    "family.eligibility_check": "家庭共济资格查询",
    "family.counter_entry": "窗口受理家庭共济",
    "family.approve": "家庭共济审核通过",
    "family.reject": "家庭共济审核退回",
    "family.relation_correct": "更正家庭共济亲属关系",
    "account.freeze": "违规使用冻结账户",
    "filings.view": "查看异地就医备案",
    "filings.filed": "办理异地就医备案",
    "filings.changed": "变更异地就医备案",
    "filings.cancelled": "撤销异地就医备案",
    "filings.rules_set": "修改地区异地就医备案规则",
    "account.unfreeze_request": "申请解除账户冻结",
    "hotline.read": "热线语音查询",
    "hotline.identify": "热线坐席核实来电人身份",
    "family.view": "查看家庭共济",
    "kiosk.register": "登记自助查询机",
    "kiosk.revoke": "停用自助查询机",
}

# The actions a person sees on 查询记录: reads of their data, not every staff action.
READ_ACTIONS = frozenset(
    {
        "person.lookup",
        "person.view",
        "person.unmask",
        "account.view",
        "statement.print",
        "claim.view",
        "claim.document_view",
        "dispute.view",
        "partner.read",
        "family.case_view",
        "family.document_view",
        "filings.view",
        "family.eligibility_check",
        "hotline.read",
        "hotline.identify",
        "family.view",
    }
)

# Why a person looked another person up (not a reason staff may choose).
PERSON_REASONS = {"family_application": "申请家庭共济", "kiosk": "本人在自助查询机查询"}

# What a partner app read (the `reason` of a `partner.read`): "支付宝 读取了你的消费记录".
PARTNER_READS = {
    "account": "账户余额",
    "contributions": "缴费记录",
    "consumption": "消费记录",
    "consumption_detail": "消费明细",
    "claims": "报销进度",
    "family": "家庭共济授权",
    "family_payments": "共济消费明细",
    "voucher": "医保电子凭证",
}


# How staff find a person at the counter or on the phone.
LOOKUP_KEYS = {"id_number": "身份证号码", "card_no": "社会保障卡号", "phone": "手机号码"}
UNMASKABLE_FIELDS = {"id_number": "身份证号码", "phone": "手机号码"}
# Seeing a full ID number or phone is a permission of its own, and always recorded.
UNMASK_ROLES = frozenset({"clerk", "admin"})


class LookupReasonRequired(InvalidInput):
    code = "lookup_reason_required"


class UnmaskNotAllowed(PermissionDenied):
    code = "unmask_not_allowed"


class AuditAdminOnly(PermissionDenied):
    code = "audit_admin_only"


class AuditTrailBroken(DomainError):
    code = "audit_trail_broken"


class InvalidAuditRecord(InvalidInput):
    code = "invalid_audit_record"


class NothingToArchive(InvalidInput):
    code = "nothing_to_archive"


@dataclass(frozen=True, slots=True)
class AuditContent:
    """What one record says; its hash is computed over exactly these fields."""

    seq: int
    occurred_at: datetime
    actor_type: str
    actor_id: str
    actor_name: str
    role: str
    office: str
    action: str
    subject_person_id: int | None
    reason: str
    detail_json: str
    prev_hash: str


def canonical_detail(detail: Mapping[str, Any]) -> str:
    """One text per meaning: sorted keys, no spaces, so the hash does not depend on dict order."""
    try:
        return json.dumps(
            detail, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_refuse
        )
    except TypeError as exc:
        raise InvalidAuditRecord(f"审计详情只能包含文本、数字和列表: {exc}") from exc


def _refuse(value: object) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON")


def _moment(value: datetime) -> str:
    if value.tzinfo is None:
        raise InvalidAuditRecord("审计时间必须带时区")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_hash(content: AuditContent) -> str:
    payload = json.dumps(
        [
            content.seq,
            _moment(content.occurred_at),
            content.actor_type,
            content.actor_id,
            content.actor_name,
            content.role,
            content.office,
            content.action,
            content.subject_person_id,
            content.reason,
            content.detail_json,
            content.prev_hash,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def check_record(actor_type: str, action: str, actor_id: str) -> None:
    if actor_type not in ActorType.__members__.values():
        raise InvalidAuditRecord(f"未知的操作者类型 {actor_type!r}")
    if not action or len(action) > 60:
        raise InvalidAuditRecord("审计动作不能为空")
    if not actor_id:
        raise InvalidAuditRecord("审计记录必须写明操作者")


@dataclass(frozen=True, slots=True)
class Break:
    record_id: int | None
    seq: int
    problem: str


class ChainCheck:
    """Walks the records in seq order and remembers the first break."""

    def __init__(self, anchor_seq: int = 0, anchor_hash: str = GENESIS_HASH) -> None:
        self.last_seq = anchor_seq
        self.last_hash = anchor_hash
        self.checked = 0
        self.first_break: Break | None = None

    def feed(self, record_id: int, content: AuditContent, stored_hash: str) -> None:
        if self.first_break is not None:
            return
        self.checked += 1
        if content.seq != self.last_seq + 1:
            self._broken(record_id, content.seq, f"序号不连续：应为 {self.last_seq + 1}")
        elif content.prev_hash != self.last_hash:
            self._broken(record_id, content.seq, "前一条记录的哈希不符（记录被删除或插入）")
        elif record_hash(content) != stored_hash:
            self._broken(record_id, content.seq, "内容与哈希不符（记录被修改）")
        self.last_seq = content.seq
        self.last_hash = stored_hash

    def finish(self, head_seq: int, head_hash: str) -> None:
        """The chain head must point at the last record: a removed tail shows here."""
        if self.first_break is None and (head_seq, head_hash) != (self.last_seq, self.last_hash):
            self._broken(
                None, head_seq, f"链头指向第 {head_seq} 条，但最后一条记录是第 {self.last_seq} 条"
            )

    def _broken(self, record_id: int | None, seq: int, problem: str) -> None:
        self.first_break = Break(record_id=record_id, seq=seq, problem=problem)


@dataclass(frozen=True, slots=True)
class LookupLine:
    """One line of 查询记录 as the person sees it."""

    record_id: int
    occurred_at: datetime
    who: str
    role_name: str
    office: str
    action_name: str
    reason: str


def lookup_line(
    record_id: int,
    occurred_at: datetime,
    actor_type: str,
    actor_name: str,
    role: str,
    office: str,
    action: str,
    reason: str,
) -> LookupLine:
    # The office is named and the clerk stays private; a partner is an organisation, named in full.
    masked = actor_type in (ActorType.STAFF, ActorType.PERSON)
    who = mask_name(actor_name) if masked else actor_name
    action_name = ACTION_NAMES.get(action, action)
    reason_name = LOOKUP_REASONS.get(reason) or PERSON_REASONS.get(reason, reason)
    if action == "partner.read" and reason in PARTNER_READS:
        action_name = f"{actor_name} 读取了你的{PARTNER_READS[reason]}"
        reason_name = "你授权的应用"
    return LookupLine(
        record_id=record_id,
        occurred_at=occurred_at,
        who=who,
        role_name=ROLE_NAMES.get(role, role),
        office=office,
        action_name=action_name,
        reason=reason_name,
    )
