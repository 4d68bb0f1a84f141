"""The transactions the interface answers: one row each. Adding one is a handler and a row.

`kinds` says who may send it (H hospitals, P pharmacies); `signed_in` whether it needs the day's
sign_no from 9001.
"""

from __future__ import annotations

from dataclasses import dataclass

from yibao.fsi.call import Handler
from yibao.fsi.handlers import outpatient, pharmacy, records, signin


@dataclass(frozen=True, slots=True)
class Transaction:
    name: str
    handle: Handler
    kinds: str = "HP"
    signed_in: bool = True


TRANSACTIONS: dict[str, Transaction] = {
    "9001": Transaction("签到", signin.sign_in, signed_in=False),
    "1101": Transaction("人员信息获取", signin.person_info),
    "2201": Transaction("门诊挂号", outpatient.register, kinds="H"),
    "2204": Transaction("门诊费用明细信息上传", outpatient.upload_fees, kinds="H"),
    "2206": Transaction("门诊预结算", outpatient.pre_settle, kinds="H"),
    "2207": Transaction("门诊结算", outpatient.settle, kinds="H"),
    "2208": Transaction("门诊结算撤销", outpatient.cancel, kinds="H"),
    "2101": Transaction("药店预结算", pharmacy.pre_settle, kinds="P"),
    "2102": Transaction("药店结算", pharmacy.settle, kinds="P"),
    "2103": Transaction("药店结算撤销", outpatient.cancel, kinds="P"),
    "2601": Transaction("冲正交易", records.reverse),
    "5203": Transaction("结算信息查询", records.query_settlement),
}
