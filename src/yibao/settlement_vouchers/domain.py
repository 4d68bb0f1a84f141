"""电子结算凭证 (electronic settlement voucher): the document an institution issues for one of
its settlements, uploaded to yibao (4901), re-uploaded (4905), and shown to the person.

Rules:
- A voucher belongs to one settlement of the institution that uploads it and names that
  settlement's person (`psn_no`, `psn_name`). A cancelled settlement takes no new voucher.
- Its figures are the settlement's, fen for fen: the total (`medfee_sumamt`, and `bill_amt`, the
  amount the voucher was issued for), the fund's part (`fund_pay_sumamt`, `hifp_pay` if sent),
  the personal account's (`acct_pay`), a relative's account (`acct_mulaid_pay`) and cash
  (`psn_cash_pay`). A mismatch is refused naming the field, and nothing is kept.
- One voucher per settlement at a time: 4901 uploads the first, 4905 replaces it with a new
  version; every version is kept. The current one is the newest not withdrawn; a 2601 of the
  message that made a version withdraws it, and the one before is current again.
- The document itself (PDF, JPG or PNG, checked as every upload is) is optional; the structured
  data is always kept. The digest is the SHA-256 of the document, or of the canonical structured
  data when there is none, so a person and an auditor can tell two versions apart.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from yibao.kernel.errors import Conflict, InvalidInput, NotFound

# (field on the interface, the settlement's column, its name in an err_msg)
CHECKED_AMOUNTS: tuple[tuple[str, str, str], ...] = (
    ("medfee_sumamt", "medfee_sumamt_fen", "医疗费总额"),
    ("bill_amt", "medfee_sumamt_fen", "开票金额"),
    ("fund_pay_sumamt", "fund_pay_sumamt_fen", "基金支付总额"),
    ("hifp_pay", "hifp_pay_fen", "统筹基金支付"),
    ("acct_pay", "acct_pay_fen", "个人账户支付"),
    ("acct_mulaid_pay", "acct_mulaid_pay_fen", "共济账户支付"),
    ("psn_cash_pay", "psn_cash_pay_fen", "个人现金支付"),
)

# 5501 vouch_stas
NOT_UPLOADED, UPLOADED, VOID = "0", "1", "2"
STATUS_NAMES = {NOT_UPLOADED: "未上传", UPLOADED: "已上传", VOID: "结算已撤销，凭证作废"}


class VoucherMismatch(InvalidInput):
    code = "voucher_mismatch"


class VoucherExists(Conflict):
    code = "voucher_exists"


class NoVoucher(NotFound):
    code = "no_voucher"


class SettlementNotVoucherable(InvalidInput):
    code = "settlement_not_voucherable"


@dataclass(frozen=True, slots=True)
class VoucherData:
    """What the institution sent: the voucher's numbers and its figures in fen (None: not sent)."""

    setl_id: str
    psn_no: str
    psn_name: str
    bill_code: str  # 电子结算凭证代码
    bill_no: str  # 电子结算凭证号码
    bill_chkcode: str  # 校验码
    bill_time: datetime  # 开票时间, Beijing wall time as sent
    biller: str
    rechker: str
    amounts: dict[str, int | None]
    reason: str = ""  # 4905: why it is uploaded again

    def canonical(self) -> bytes:
        """The structured data as one text, for the digest when no document is sent."""
        fields = {
            "setl_id": self.setl_id,
            "psn_no": self.psn_no,
            "psn_name": self.psn_name,
            "bill_code": self.bill_code,
            "bill_no": self.bill_no,
            "bill_chkcode": self.bill_chkcode,
            "bill_time": self.bill_time.strftime("%Y-%m-%d %H:%M:%S"),
            "biller": self.biller,
            "rechker": self.rechker,
            **{name: fen for name, fen in sorted(self.amounts.items())},
        }
        return json.dumps(fields, ensure_ascii=False, sort_keys=True).encode()


def digest(data: VoucherData, document: bytes | None) -> str:
    return hashlib.sha256(document if document is not None else data.canonical()).hexdigest()


def mismatches(data: VoucherData, settlement_amounts: dict[str, int], where: str) -> list[str]:
    """Each sent amount that is not the settlement's, as an err_msg part naming the field."""
    found = []
    for name, column, label in CHECKED_AMOUNTS:
        sent = data.amounts.get(name)
        if sent is None:
            continue
        if sent != settlement_amounts[column]:
            found.append(
                f"{where}.{name}（{label}）{_yuan(sent)} 与结算 {data.setl_id} 的 "
                f"{_yuan(settlement_amounts[column])} 不符"
            )
    return found


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"
