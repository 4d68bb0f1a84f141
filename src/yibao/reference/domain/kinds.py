"""The kinds of reference data yibao hands out, each with its national fields in file order.

A download (13xx with `ver`) is a zip holding one text file: a line per record, its fields in
the order below separated by TAB, no header, as the national platform writes them; national
clients read the fields by position. The fields a record carries itself (`vali_flag`, `rid`,
`crte_time`, `updt_time`, `ver`, `ver_name`) are filled by yibao; the rest come from the import.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Delivery = Literal["file", "page"]

# Filled by yibao for every record, never read from an import.
SYSTEM_FIELDS = frozenset({"vali_flag", "rid", "crte_time", "updt_time", "ver", "ver_name"})
_SYSTEM = ("vali_flag", "rid", "crte_time", "updt_time", "ver", "ver_name")


@dataclass(frozen=True, slots=True)
class Kind:
    infno: str
    name: str
    slug: str  # the CLI's name for it
    columns: tuple[str, ...]
    code: str  # the field that is the record's code
    title: str  # the field that is its name
    key: tuple[str, ...]  # fields that identify one record (a new import of it replaces it)
    delivery: Delivery = "file"
    required: tuple[str, ...] = ()
    code_length: int | None = None  # exact length of the code, where the list fixes it
    code_ascii: bool = True  # a registration number (国械注准…) is not
    group: str | None = None  # a second searchable field (a dictionary's type …)
    parent: str | None = None
    dates: tuple[str, ...] = ("begndate", "enddate")

    @property
    def imported(self) -> tuple[str, ...]:
        return tuple(c for c in self.columns if c not in SYSTEM_FIELDS)


WESTERN_AND_PATENT = Kind(
    "1301",
    "西药中成药目录",
    "western",
    (
        "med_list_codg", "drug_prodname", "genname_codg", "drug_genname", "chemname", "alis",
        "eng_name", "reg_name", "drugstdcode", "drug_dosform", "drug_dosform_name", "drug_type",
        "drug_type_name", "drug_spec", "drug_spec_code", "reg_dosform", "reg_spec",
        "reg_spec_code", "each_dos", "used_frqu", "acdbas", "nat_drug_no", "used_mtd",
        "tcmpat_flag", "prodplac_type", "prodplac_type_name", "prcunt_type", "otc_flag",
        "otc_flag_name", "pacmatl", "pacmatl_name", "pacspec", "pac_cnt", "efcc_atd", "rute",
        "manl", "begndate", "enddate", "min_useunt", "min_salunt", "min_unt", "min_pac_cnt",
        "min_pacunt", "min_prepunt", "min_pacunt_name", "min_prepunt_name", "convrat",
        "drug_expy", "min_prcunt", "wubi", "pinyin", "subpck_fcty", "prodentp_code",
        "prodentp_name", "sp_lmtpric_drug_flag", "sp_drug_flag", "lmt_usescp", "lmt_used_flag",
        "drug_regcertno", "drug_regcert_begndate", "drug_regcert_enddate", "aprvno",
        "aprvno_begndate", "aprvno_enddate", "mkt_stas", "mkt_stas_name",
        "drug_regcert_elec_file", "drug_splm_aprv_elec_file", "nat_hi_druglist_memo",
        "bas_medn_flag_name", "bas_medn_flag", "vat_adj_drug_flag", "vat_adj_drug_name",
        "lstd_drug_coll", "hi_nego_drug_flag", "hi_nego_drug_name", "nhc_drug_codg", "memo",
        *_SYSTEM,
        "chld_medc_flag", "co_name", "cnsty_eval_drug", "dstr_entp", "dstr_entp_cont",
        "dstr_entp_auth_elec_file", "nat_hi_druglist_dosform", "nat_hi_druglist_chrgitm_lv",
    ),
    code="med_list_codg",
    title="drug_genname",
    key=("med_list_codg",),
    required=("med_list_codg", "drug_genname"),
)  # fmt: skip

HERBAL_PIECES = Kind(
    "1302",
    "中药饮片目录",
    "herbal",
    (
        "med_list_codg", "tcmherb_name", "cpnd_flag", "qlt_lv", "tcmdrug_year", "med_part",
        "safe_mtr", "cnvl_used", "natfla", "mertpm", "cat", "begndate", "enddate",
        "vali_flag", "rid", "crte_time", "updt_time", "ver", "ver_name",
        "medcinal_name", "efcc_atd", "prcs_mtd", "efcc_cls", "medcinal_souc",
        "nat_hi_pay_pol", "prov_hi_pay_pol", "std_name", "std_page", "std_elec_file",
    ),
    code="med_list_codg",
    title="tcmherb_name",
    key=("med_list_codg",),
    required=("med_list_codg", "tcmherb_name"),
)  # fmt: skip

ETHNIC = Kind(
    "1304",
    "民族药品目录",
    "ethnic",
    (
        "med_list_codg", "drug_prodname", "genname_codg", "drug_genname", "ethdrug_type",
        "chemname", "alis", "eng_name", "dosform", "each_dos", "used_frqu", "nat_drug_no",
        "used_mtd", "ing", "chrt", "drug_spec", "prcunt_type", "otc_flag", "pacmatl", "pacspec",
        "min_useunt", "min_salunt", "manl", "rute", "begndate", "enddate", "pham_type", "memo",
        *_SYSTEM,
    ),
    code="med_list_codg",
    title="drug_genname",
    key=("med_list_codg",),
    delivery="page",
    required=("med_list_codg", "drug_genname"),
)  # fmt: skip

_CONSUMABLE_COLUMNS = (
    "med_list_codg", "mcs_name", "hi_genname", "mcs_spec", "mcs_matl", "prcunt", "pacspec",
    "sin_use_flag", "medins_mgt_type", "reg_fil_no", "reg_fil_name", "prodentp_code",
    "prodentp_name", "prodplac", "lmt_usescp", "begndate", "enddate", "memo", *_SYSTEM,
)  # fmt: skip

CONSUMABLES = Kind(
    "1306",
    "医用耗材目录",
    "consumables",
    _CONSUMABLE_COLUMNS,
    code="med_list_codg",
    title="mcs_name",
    key=("med_list_codg",),
    required=("med_list_codg", "mcs_name"),
)

CONSUMABLES_27 = Kind(
    "1306A",
    "27位医用耗材目录",
    "consumables27",
    _CONSUMABLE_COLUMNS,
    code="med_list_codg",
    title="mcs_name",
    key=("med_list_codg",),
    required=("med_list_codg", "mcs_name"),
    code_length=27,
)

CHRONIC_DISEASES = Kind(
    "1309",
    "门诊慢特病种目录",
    "chronic",
    (
        "opsp_dise_code", "opsp_dise_majcls_name", "opsp_dise_subd_clss_name", "admdvs", "memo",
        "vali_flag", "rid", "crte_time", "updt_time", "ver", "dise_cont", "ver_name",
        "trt_guide_pagen", "trt_guide_elecacs", "opsp_dise_name", "opsp_dise_majcls_code",
    ),
    code="opsp_dise_code",
    title="opsp_dise_name",
    key=("opsp_dise_code",),
    required=("opsp_dise_code", "opsp_dise_name"),
    dates=(),
)  # fmt: skip

MEDICAL_TO_HILIST = Kind(
    "1316",
    "医疗目录与医保目录匹配信息",
    "matches",
    (
        "med_list_codg", "hilist_code", "list_type", "insu_admdvs", "begndate", "enddate",
        "memo", "vali_flag", "rid", "updt_time", "crte_time", "ver",
    ),
    code="med_list_codg",
    title="hilist_code",
    key=("med_list_codg", "hilist_code", "begndate"),
    delivery="page",
    required=("med_list_codg", "hilist_code", "begndate"),
    group="hilist_code",
)  # fmt: skip

FORMULA_GRANULES = Kind(
    "1320",
    "中药配方颗粒目录",
    "granules",
    (
        "med_list_codg", "drug_genname", "drug_prodname", "drug_spec", "eqvl_tcmherb",
        "pacspec", "prodentp_name", "aprvno", "begndate", "enddate", "memo", *_SYSTEM,
    ),
    code="med_list_codg",
    title="drug_genname",
    key=("med_list_codg",),
    required=("med_list_codg", "drug_genname"),
)  # fmt: skip

_IVD_TAIL = ("begndate", "enddate", "memo", *_SYSTEM)

IVD_PRODUCTS = Kind(
    "1322",
    "体外诊断试剂产品信息",
    "ivd-products",
    ("med_list_codg", "prod_name", "prod_spec", "reg_cert_no", "prodentp_name",
     "ivd_cls_code", *_IVD_TAIL),
    code="med_list_codg",
    title="prod_name",
    key=("med_list_codg",),
    required=("med_list_codg", "prod_name"),
)  # fmt: skip

IVD_PRODUCT_CERTS = Kind(
    "1323",
    "体外诊断试剂产品信息与注册证关联信息",
    "ivd-product-certs",
    ("med_list_codg", "reg_cert_no", "prod_name", *_IVD_TAIL),
    code="med_list_codg",
    title="prod_name",
    key=("med_list_codg", "reg_cert_no"),
    required=("med_list_codg", "reg_cert_no"),
)  # fmt: skip

IVD_TEST_ITEMS = Kind(
    "1324",
    "体外诊断试剂检测指标信息",
    "ivd-tests",
    ("med_list_codg", "test_item_code", "test_item_name", *_IVD_TAIL),
    code="med_list_codg",
    title="test_item_name",
    key=("med_list_codg", "test_item_code"),
    required=("med_list_codg", "test_item_code", "test_item_name"),
)  # fmt: skip

IVD_PRODUCT_CODES = Kind(
    "1325",
    "体外诊断试剂产品信息编码",
    "ivd-codes",
    ("med_list_codg", "prod_code", "prod_name", *_IVD_TAIL),
    code="med_list_codg",
    title="prod_name",
    key=("med_list_codg", "prod_code"),
    required=("med_list_codg", "prod_code", "prod_name"),
)  # fmt: skip

IVD_CERTS = Kind(
    "1326",
    "体外诊断试剂注册证信息",
    "ivd-certs",
    ("reg_cert_no", "reg_name", "registrant", "reg_begndate", "reg_enddate", *_IVD_TAIL),
    code="reg_cert_no",
    title="reg_name",
    key=("reg_cert_no",),
    required=("reg_cert_no", "reg_name"),
    code_ascii=False,
    dates=("begndate", "enddate", "reg_begndate", "reg_enddate"),
)  # fmt: skip

IVD_CLASSES = Kind(
    "1327",
    "体外诊断试剂分类目录",
    "ivd-classes",
    ("ivd_cls_code", "ivd_cls_name", "prnt_cls_code", *_IVD_TAIL),
    code="ivd_cls_code",
    title="ivd_cls_name",
    key=("ivd_cls_code",),
    required=("ivd_cls_code", "ivd_cls_name"),
    parent="prnt_cls_code",
)  # fmt: skip

DICTIONARY = Kind(
    "1901",
    "字典表",
    "dictionary",
    ("type", "value", "label", "parent_value", "sort", "vali_flag", "crte_time", "updt_time",
     "ver"),
    code="value",
    title="label",
    key=("type", "value", "parent_value"),
    delivery="page",
    required=("type", "value", "label"),
    group="type",
    parent="parent_value",
    dates=(),
)  # fmt: skip

PRACTITIONERS = Kind(
    "5102",
    "医执人员信息",
    "practitioners",
    ("prac_psn_code", "prac_psn_name", "prac_psn_type", "psn_cert_type", "certno",
     "prac_psn_no", "prac_psn_cert", "prac_cert_no", "hi_dr_flag", "begntime", "endtime",
     "chg_rea", "vali_flag", "updt_time"),
    code="prac_psn_code",
    title="prac_psn_name",
    key=("prac_psn_code",),
    delivery="page",
    required=("prac_psn_code", "prac_psn_name", "prac_psn_type"),
    group="prac_psn_type",
    dates=(),
)  # fmt: skip

INSTITUTION_MAPPINGS = Kind(
    "1317",
    "医药机构目录匹配信息",
    "mappings",
    ("fixmedins_code", "medins_list_codg", "medins_list_name", "insu_admdvs", "list_type",
     "med_list_codg", "begndate", "enddate", "aprvno", "dosform", "exct_cont", "item_cont",
     "prcunt", "spec", "pacspec", "memo", "vali_flag", "rid", "updt_time"),
    code="medins_list_codg",
    title="medins_list_name",
    key=("fixmedins_code", "medins_list_codg", "begndate"),
    delivery="page",
    required=("fixmedins_code", "medins_list_codg", "medins_list_name", "med_list_codg",
              "begndate"),
)  # fmt: skip

KINDS: dict[str, Kind] = {
    kind.infno: kind
    for kind in (
        WESTERN_AND_PATENT,
        HERBAL_PIECES,
        ETHNIC,
        CONSUMABLES,
        CONSUMABLES_27,
        CHRONIC_DISEASES,
        MEDICAL_TO_HILIST,
        INSTITUTION_MAPPINGS,
        FORMULA_GRANULES,
        IVD_PRODUCTS,
        IVD_PRODUCT_CERTS,
        IVD_TEST_ITEMS,
        IVD_PRODUCT_CODES,
        IVD_CERTS,
        IVD_CLASSES,
        DICTIONARY,
        PRACTITIONERS,
    )
}
BY_SLUG: dict[str, Kind] = {kind.slug: kind for kind in KINDS.values()}
