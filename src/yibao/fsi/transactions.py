"""The transactions the interface answers: one row each. Adding one is a handler and a row.

A row says who may send it (`kinds`: H hospitals, P pharmacies), whether it needs the day's
sign_no from 9001 (`sign_in`), and how 2601 冲正 undoes it (`reverse`).

Sign-in: hospital kiosks and HIS clients send `sign_no: ""` and never call 9001 for look-ups and
queries, so a transaction that only reads accepts an empty (or any) sign_no; one that writes a
visit, its fees or money needs the day's. A region may require it for every transaction
(`YIBAO_FSI_SIGN_IN_ALWAYS`).

Reversal: `reverse` calls the one use case that undoes that kind of message; `nothing_to_reverse`
for one that leaves nothing to undo; None when 2601 must refuse it (`irreversible` says why).

A file answered as the body (9102, `Reply.attachment`): `resend` reads it again for a retried
msgid, whose kept answer only names it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypedDict

from yibao.fsi.call import Handler, Resender, Reverser, nothing_to_reverse
from yibao.fsi.handlers import (
    auditing,
    basics,
    catalogue,
    crossregion,
    downloads,
    files,
    filings,
    mapping,
    outpatient,
    pharmacy,
    prescriptions,
    reconciliation,
    records,
    settlement_vouchers,
    signin,
    stock,
    treatment,
    visits,
)

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
    # Set when the handler answers a file as the body (`Reply.attachment`): how a retried msgid
    # gets the file again, since the kept answer only names it.
    resend: Resender | None = None

    def needs_sign_in(self, *, always: bool) -> bool:
        """`always`: the region requires the day's sign_no for every transaction."""
        return self.sign_in == "required" or (self.sign_in == "optional" and always)


class _Read(TypedDict):
    sign_in: SignIn
    reverse: Reverser


READ: _Read = {"sign_in": "optional", "reverse": nothing_to_reverse}

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
    # 人员备案 for 异地就医 (fsi/handlers/filings.py). 2502 is how a 2501 is undone, not 2601.
    "2501": Transaction(
        "转院备案",
        filings.refer,
        kinds="H",
        irreversible="交易 {infno}（{name}）不能冲正，请用 2502 撤销转院备案",
    ),
    "2502": Transaction(
        "转院备案撤销", filings.cancel_referral, kinds="H", irreversible=CANCELS_ARE_FINAL
    ),
    "5203": Transaction(
        "结算信息查询", records.query_settlement, sign_in="optional", reverse=nothing_to_reverse
    ),
    # 明细审核 (fsi/handlers/auditing.py): screening answers, kept as records for 3103; doctor
    # workstations send them without 9001, and 2601 has no money or visit to undo.
    "3101": Transaction("明细审核事前分析服务", auditing.before, **READ),
    "3102": Transaction("明细审核事中分析服务", auditing.during, **READ),
    "3103": Transaction(
        "事前事中服务反馈服务",
        auditing.feedback,
        sign_in="optional",
        irreversible="反馈交易 {infno} 不能冲正；如需更正请再次发送 3103",
    ),
    # Reference data (fsi/handlers/downloads.py, catalogue.py, basics.py): reads, so kiosks and
    # HIS clients may send them with an empty sign_no, and 2601 has nothing to undo.
    **{
        infno: Transaction(name, downloads.downloader(infno), **READ)
        for infno, name in (
            ("1301", "西药中成药目录下载"),
            ("1302", "中药饮片目录下载"),
            ("1306", "医用耗材目录下载"),
            ("1306A", "27位医用耗材目录下载"),
            ("1309", "门诊慢特病种目录下载"),
            ("1320", "中药配方颗粒目录下载"),
            ("1322", "体外诊断试剂产品信息下载"),
            ("1323", "体外诊断试剂产品信息与注册证关联信息下载"),
            ("1324", "体外诊断试剂检测指标信息下载"),
            ("1325", "体外诊断试剂产品信息编码下载"),
            ("1326", "体外诊断试剂试剂注册证信息下载"),
            ("1327", "体外诊断试剂分类目录下载"),
        )
    },
    "1201": Transaction("医药机构信息获取", basics.institutions, **READ),
    "1304": Transaction("民族药品目录查询", catalogue.ethnic_drugs, **READ),
    "1312": Transaction("医保目录信息下载", catalogue.hilist, **READ),
    "1316": Transaction("医疗目录与医保目录匹配信息查询", catalogue.medical_to_hilist, **READ),
    "1317": Transaction("医药机构目录匹配信息查询", catalogue.institution_mappings, **READ),
    "1318": Transaction("医保目录限价信息查询", catalogue.price_caps, **READ),
    "1319": Transaction("医保目录先自付比例信息查询", catalogue.selfpay_shares, **READ),
    "1901": Transaction("字典表下载", basics.dictionary, **READ),
    "5102": Transaction("医执人员信息查询", basics.practitioners, **READ),
    "100001": Transaction("政策项查询", basics.policy_items, **READ),
    # A 9101 keeps a file only its institution can read, and it expires: 2601 leaves it.
    "9101": Transaction("文件上传", files.upload, **READ),
    # 对账: each keeps the reconciliation as history and moves no money; 2601 leaves it.
    "3201": Transaction("医药机构费用结算对总账", reconciliation.totals, **READ),
    "3202": Transaction("医药机构费用结算对明细账", reconciliation.details, **READ),
    # 9102 answers the file's bytes, not JSON; a retried msgid reads the file again.
    "9102": Transaction("文件下载", files.download, resend=files.resend, **READ),
    # 电子结算凭证 (fsi/handlers/settlement_vouchers.py): 2601 withdraws the version a 4901 or
    # 4905 kept, and the one before is current again.
    "4901": Transaction(
        "医疗机构上传电子结算凭证",
        settlement_vouchers.upload,
        reverse=settlement_vouchers.reverse_upload,
    ),
    "4905": Transaction(
        "医疗机构重新上传电子结算凭证",
        settlement_vouchers.upload_again,
        reverse=settlement_vouchers.reverse_upload,
    ),
    "4902": Transaction(
        "医疗机构电子结算凭证上传结果查询", settlement_vouchers.upload_result, **READ
    ),
    "5501": Transaction("查询电子结算凭证状态", settlement_vouchers.status, **READ),
    # 2601 revokes the authorisation a 7201 made (fsi/handlers/prescriptions.py).
    "7201": Transaction(
        "电子处方线下流转授权",
        prescriptions.authorise,
        kinds="P",
        reverse=prescriptions.reverse_authorisation,
    ),
    # 目录对照 (fsi/handlers/mapping.py). A 3301 is withdrawn with 3302, which ends the mapping
    # and keeps it as history; a 3302 is final: upload the mapping again.
    "3301": Transaction(
        "目录对照上传",
        mapping.upload,
        irreversible="目录对照上传 {infno} 不能冲正；请用 3302 撤销该对照（对照历史会保留）",
    ),
    "3302": Transaction("目录对照撤销", mapping.cancel, irreversible=CANCELS_ARE_FINAL),
    # 进销存 (fsi/handlers/stock.py): the A variants send the same records as an array. 2601 of a
    # record compensates it (as a 3507 would) and keeps it marked; a 3507 is final.
    **{
        infno: Transaction(name, stock.recorder(kind), reverse=stock.reverse_record)
        for code, name, kind in stock.RECORDS
        for infno in (code, f"{code}A")
    },
    **{
        infno: Transaction(
            "商品信息删除",
            stock.delete,
            irreversible="商品信息删除 {infno} 不能冲正；如删错请重新上传该记录",
        )
        for infno in ("3507", "3507A")
    },
    "3508": Transaction("定点医药机构商品库存信息查询", stock.stock_levels, **READ),
    "3509": Transaction("定点医药机构商品库存变更记录查询", stock.lister(("change",)), **READ),
    "3510": Transaction(
        "定点医药机构商品采购信息查询", stock.lister(("purchase", "purchase_return")), **READ
    ),
    "3511": Transaction(
        "定点医药机构商品销售信息查询", stock.lister(("sale", "sale_return")), **READ
    ),
}


# 异地就医 (docs/cross-region.md): a message whose insuplc_admdvs is a region another deployment
# serves is routed by this table (fsi/router.py). Sign-in, reference data and files are the
# usual rows; the person's transactions go through the home region (the bill, 2001) or this
# side's own record of the visit and the settlement (2202, 2203, 2205, 5203).
_ACROSS = "该交易暂不支持异地就医"
CROSS_REGION: dict[str, Transaction] = {
    **TRANSACTIONS,
    "2001": Transaction(
        "人员待遇享受检查", crossregion.check, sign_in="optional", reverse=nothing_to_reverse
    ),
    "2202": Transaction(
        "门诊挂号撤销", crossregion.cancel_registration, kinds="H", irreversible=CANCELS_ARE_FINAL
    ),
    **{
        infno: Transaction(
            "门诊就诊信息上传",
            crossregion.upload_visit_info,
            kinds="H",
            reverse=crossregion.reverse_visit_info,
        )
        for infno in ("2203", "2203A")
    },
    "2205": Transaction(
        "门诊费用明细信息撤销", crossregion.withdraw_fees, kinds="H", irreversible=CANCELS_ARE_FINAL
    ),
    "5203": Transaction(
        "结算信息查询",
        crossregion.query_settlement,
        sign_in="optional",
        reverse=nothing_to_reverse,
    ),
    "1101": Transaction(
        "人员信息获取", crossregion.person_info, sign_in="optional", reverse=nothing_to_reverse
    ),
    "2201": Transaction(
        "门诊挂号", crossregion.register, kinds="H", reverse=crossregion.reverse_registration
    ),
    "2204": Transaction(
        "门诊费用明细信息上传", crossregion.upload_fees, kinds="H", irreversible=_ACROSS
    ),
    "2206": Transaction(
        "门诊预结算",
        crossregion.pre_settle,
        kinds="H",
        sign_in="optional",
        reverse=nothing_to_reverse,
    ),
    "2207": Transaction(
        "门诊结算", crossregion.settle, kinds="H", reverse=crossregion.reverse_settlement
    ),
    "2208": Transaction(
        "门诊结算撤销", crossregion.cancel, kinds="H", irreversible=CANCELS_ARE_FINAL
    ),
    "2101": Transaction(
        "药店预结算",
        crossregion.pharmacy_pre_settle,
        kinds="P",
        sign_in="optional",
        reverse=nothing_to_reverse,
    ),
    "2102": Transaction(
        "药店结算", crossregion.pharmacy_settle, kinds="P", reverse=crossregion.reverse_settlement
    ),
    "2103": Transaction(
        "药店结算撤销", crossregion.cancel, kinds="P", irreversible=CANCELS_ARE_FINAL
    ),
}
