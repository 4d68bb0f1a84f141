"""Names of codes as the pages show them, marked for translation (pybabel extracts `N_`)."""

from __future__ import annotations

from yibao.web.i18n import N_

INSUTYPE = {
    "310": N_("职工基本医疗保险"),
    "390": N_("城乡居民基本医疗保险"),
    "320": N_("公务员医疗补助"),
    "330": N_("大额医疗费用补助"),
    "340": N_("离休人员医疗保障"),
    "392": N_("城乡居民大病医疗保险"),
    "510": N_("生育保险"),
}
PSN_TYPE = {
    "1101": N_("职工在职"),
    "1201": N_("职工退休"),
    "1300": N_("离休"),
    "1501": N_("普通居民"),
}
ENROLMENT_STATUS = {"1": N_("正常参保"), "2": N_("暂停参保"), "4": N_("终止参保")}
ACCOUNT_STATUS = {"active": N_("正常"), "frozen": N_("已冻结")}
CONSUMPTION_KIND = {
    "settlement": N_("医药消费"),
    "mutual_aid": N_("家庭共济支付"),
    "relative_contribution": N_("代缴居民医保"),
    "refund": N_("冲正退回"),
}
ENTRY_KIND = {
    "contribution_credit": N_("缴费划入"),
    "settlement_debit": N_("医药消费"),
    "mutual_aid_debit": N_("家庭共济支付"),
    "reversal": N_("冲正退回"),
    "staff_adjustment": N_("经办调整"),
    "relative_contribution_debit": N_("代缴居民医保"),
    "interest_credit": N_("年度结息"),
}
SCOPE = {"all": N_("全部"), "self": N_("本人"), "family": N_("家庭")}
MED_TYPE = {
    "11": N_("普通门诊"),
    "13": N_("急诊"),
    "14": N_("门诊慢特病"),
    "21": N_("普通住院"),
    "41": N_("定点药店购药"),
}
INSTITUTION_TYPE = {"H": N_("医院"), "P": N_("药店")}
ITEM_CLASS = {"01": N_("甲类"), "02": N_("乙类"), "03": N_("丙类")}
CONTRIBUTION_STATUS = {
    "normal": N_("正常"),
    "arrears": N_("欠费"),
    "backpaid": N_("补缴"),
    "gap": N_("欠费"),
}
SETTLEMENT_STATUS = {"settled": N_("已结算"), "cancelled": N_("已撤销")}
NARROWED = {
    "时间范围": N_("时间范围"),
    "类型": N_("类型"),
    "机构": N_("机构"),
    "本人/家庭": N_("本人/家庭"),
}

# 家庭共济: the same words as yibao.family.domain's names (tests/unit/test_catalogues.py checks).
FAMILY_RELATION = {
    "spouse": N_("配偶"),
    "parent": N_("父母"),
    "child": N_("子女"),
    "sibling": N_("兄弟姐妹"),
    "grandparent": N_("祖父母、外祖父母"),
    "grandchild": N_("孙子女、外孙子女"),
    "other": N_("其他亲属（如堂表兄弟姐妹）"),
}
FAMILY_STATUS = {
    "applied": N_("已填写"),
    "pending_consent": N_("待亲属确认"),
    "under_review": N_("审核中"),
    "active": N_("已生效"),
    "paused": N_("已暂停"),
    "revoked": N_("已撤销"),
    "ended": N_("已终止"),
    "rejected": N_("未通过"),
}
FAMILY_ACTION = {
    "applied": N_("填写申请"),
    "submitted": N_("提交申请"),
    "consented": N_("亲属已同意"),
    "declined": N_("亲属未同意"),
    "approved": N_("审核通过，已生效"),
    "rejected": N_("审核未通过"),
    "quota_changed": N_("调整额度"),
    "paused": N_("暂停"),
    "resumed": N_("恢复"),
    "revoked": N_("撤销"),
    "ended": N_("终止"),
    "relation_corrected": N_("更正亲属关系"),
}

ALL = {
    "insutype": INSUTYPE,
    "psn_type": PSN_TYPE,
    "enrolment_status": ENROLMENT_STATUS,
    "account_status": ACCOUNT_STATUS,
    "consumption_kind": CONSUMPTION_KIND,
    "entry_kind": ENTRY_KIND,
    "scope": SCOPE,
    "med_type": MED_TYPE,
    "institution_type": INSTITUTION_TYPE,
    "item_class": ITEM_CLASS,
    "contribution_status": CONTRIBUTION_STATUS,
    "settlement_status": SETTLEMENT_STATUS,
    "narrowed": NARROWED,
    "family_relation": FAMILY_RELATION,
    "family_status": FAMILY_STATUS,
    "family_action": FAMILY_ACTION,
}
