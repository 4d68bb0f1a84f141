"""The transactions the interface answers: one row each. Adding one is a handler and a row.

A row says who may send it (`kinds`: H hospitals, P pharmacies), whether it needs the day's
sign_no from 9001 (`sign_in`), and how 2601 冲正 undoes it (`reverse`).

Sign-in: hospital kiosks and HIS clients send `sign_no: ""` and never call 9001 for look-ups and
queries, so a transaction that only reads accepts an empty (or any) sign_no; one that writes a
visit, its fees or money needs the day's. A region may require it for every transaction
(`YIBAO_FSI_SIGN_IN_ALWAYS`).

Reversal: `reverse` calls the one use case that undoes that kind of message; `nothing_to_reverse`
for one that leaves nothing to undo; None when 2601 must refuse it (`irreversible` says why).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from yibao.fsi.call import Handler, Reverser, nothing_to_reverse
from yibao.fsi.handlers import outpatient, pharmacy, records, signin, treatment, visits

SignIn = Literal["required", "optional", "exempt"]
"""required: the day's sign_no, always. optional: none needed, unless the region requires it
for everything. exempt: 9001 itself, which gives it."""

CANCELS_ARE_FINAL = "撤销类交易 {infno} 不能冲正；如需重新结算请重新发起"


@dataclass(frozen=True, slots=True)
class Transaction:
    name: str
    handle: Handler
    kinds: str = "HP"
    sign_in: SignIn = "required"
    # None: 2601 refuses it, with `irreversible` ({infno}, {name}) as err_msg. A new row that
    # writes and forgets to say how it is undone is refused rather than answered "nothing".
    reverse: Reverser | None = None
    irreversible: str = "交易 {infno}（{name}）不能冲正"

    def needs_sign_in(self, *, always: bool) -> bool:
        """`always`: the region requires the day's sign_no for every transaction."""
        return self.sign_in == "required" or (self.sign_in == "optional" and always)


TRANSACTIONS: dict[str, Transaction] = {
    "9001": Transaction("签到", signin.sign_in, sign_in="exempt", reverse=nothing_to_reverse),
    "9002": Transaction("签退", signin.sign_out, reverse=nothing_to_reverse),
    "1101": Transaction(
        "人员信息获取", signin.person_info, sign_in="optional", reverse=nothing_to_reverse
    ),
    "2001": Transaction(
        "人员待遇享受检查", treatment.check, sign_in="optional", reverse=nothing_to_reverse
    ),
    "2201": Transaction(
        "门诊挂号", outpatient.register, kinds="H", reverse=outpatient.reverse_registration
    ),
    "2202": Transaction(
        "门诊挂号撤销", visits.cancel_registration, kinds="H", irreversible=CANCELS_ARE_FINAL
    ),
    "2203": Transaction(
        "门诊就诊信息上传", visits.upload_visit_info, kinds="H", reverse=visits.reverse_visit_info
    ),
    "2203A": Transaction(
        "门诊就诊信息上传", visits.upload_visit_info, kinds="H", reverse=visits.reverse_visit_info
    ),
    "2204": Transaction(
        "门诊费用明细信息上传", outpatient.upload_fees, kinds="H", reverse=outpatient.reverse_upload
    ),
    "2205": Transaction(
        "门诊费用明细信息撤销", visits.withdraw_fees, kinds="H", irreversible=CANCELS_ARE_FINAL
    ),
    "2206": Transaction(
        "门诊预结算",
        outpatient.pre_settle,
        kinds="H",
        sign_in="optional",
        reverse=nothing_to_reverse,
    ),
    "2207": Transaction(
        "门诊结算", outpatient.settle, kinds="H", reverse=outpatient.reverse_settlement
    ),
    "2208": Transaction(
        "门诊结算撤销", outpatient.cancel, kinds="H", irreversible=CANCELS_ARE_FINAL
    ),
    "2101": Transaction(
        "药店预结算",
        pharmacy.pre_settle,
        kinds="P",
        sign_in="optional",
        reverse=nothing_to_reverse,
    ),
    "2102": Transaction(
        "药店结算", pharmacy.settle, kinds="P", reverse=outpatient.reverse_settlement
    ),
    "2103": Transaction(
        "药店结算撤销", outpatient.cancel, kinds="P", irreversible=CANCELS_ARE_FINAL
    ),
    "2601": Transaction("冲正交易", records.reverse, irreversible=CANCELS_ARE_FINAL),
    "5203": Transaction(
        "结算信息查询", records.query_settlement, sign_in="optional", reverse=nothing_to_reverse
    ),
}
