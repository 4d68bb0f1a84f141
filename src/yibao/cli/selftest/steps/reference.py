"""Reference data (orders 30–59): 1201 institutions, the 13xx catalogue downloads fetched with
9102, the catalogue queries, 1901, 5102, 100001, and a file sent with 9101 and read back with
9102. Each step runs for the tiers whose 必验 list names its transaction."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from typing import Any

from yibao.cli.selftest.registry import BOTH, CLINIC, PHARMACY, Run, Tier, expect, step
from yibao.reference.domain import KINDS


def _fetch(run: Run, infno: str, output: dict[str, Any]) -> list[list[str]]:
    """9102 the file a download answered: its lines, split at TAB."""
    got = run.call(
        "9102",
        {
            "fsDownloadIn": {
                "file_qury_no": output["file_qury_no"],
                "filename": output["filename"],
                "fixmedins_code": "plc",
            }
        },
    )
    content = base64.b64decode(got["file"])
    expect(hashlib.sha256(content).hexdigest() == got["sha256"], f"{infno} 文件 SHA-256 不符")
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = archive.namelist()
        expect(len(names) == 1, f"{infno} 的 zip 应只含一个文本文件：{names}")
        text = archive.read(names[0]).decode("utf-8")
    return [line.split("\t") for line in text.splitlines()]


def _download(run: Run, infno: str) -> str:
    """Everything from version 0, then nothing newer than the largest version received."""
    kind = KINDS[infno]
    output = run.call(infno, {"data": {"ver": "0"}})
    lines = _fetch(run, infno, output)
    expect(len(lines) == output["data_cnt"], f"{infno} data_cnt 与文件行数不符")
    expect(
        all(len(line) == len(kind.columns) for line in lines),
        f"{infno} 每行应有 {len(kind.columns)} 个字段",
    )
    if not lines:
        return "0 条（目录为空）"
    held = max(int(line[kind.columns.index("ver")]) for line in lines)
    newer = run.call(infno, {"data": {"ver": str(held)}})
    expect(newer["data_cnt"] == 0, f"{infno} 以最新版本号 {held} 下载应无新记录")
    return f"{len(lines)} 条，版本 {held}"


def _downloads(infno: str, name: str, tiers: frozenset[Tier], order: int) -> None:
    step(infno, name, tiers=tiers, order=order)(lambda run: _download(run, infno))


for _infno, _name, _tiers, _order in (
    ("1301", "西药中成药目录下载", PHARMACY, 31),
    ("1302", "中药饮片目录下载", PHARMACY, 32),
    ("1306", "医用耗材目录下载", PHARMACY, 34),
    ("1306A", "27位医用耗材目录下载", BOTH, 35),
    ("1309", "门诊慢特病种目录下载", PHARMACY, 36),
    ("1320", "中药配方颗粒目录下载", PHARMACY, 42),
    ("1322", "体外诊断试剂产品信息下载", CLINIC, 43),
    ("1323", "体外诊断试剂产品信息与注册证关联信息下载", CLINIC, 44),
    ("1324", "体外诊断试剂检测指标信息下载", CLINIC, 45),
    ("1325", "体外诊断试剂产品信息编码下载", CLINIC, 46),
    ("1326", "体外诊断试剂试剂注册证信息下载", CLINIC, 47),
    ("1327", "体外诊断试剂分类目录下载", CLINIC, 48),
):
    _downloads(_infno, _name, _tiers, _order)


def _page(run: Run, infno: str, data: dict[str, Any]) -> dict[str, Any]:
    output = run.call(infno, {"data": {"page_num": 1, "page_size": 100, **data}})
    rows = output["data"]
    expect(isinstance(rows, list), f"{infno} 应答 data 应为数组")
    expect(output["size"] == len(rows) <= output["recordCounts"], f"{infno} 分页计数不符")
    return output


@step("1201", "医药机构信息获取", tiers=BOTH, order=30)
def institution(run: Run) -> str:
    code = run.client.code
    output = run.call("1201", {"medinsinfo": {"fixmedins_code": code, "fixmedins_type": ""}})
    found = output["medinsinfo"]
    expect([i["fixmedins_code"] for i in found] == [code], f"1201 应返回本机构 {code}")
    return str(found[0]["fixmedins_name"])


@step("1304", "民族药品目录查询", tiers=PHARMACY, order=33)
def ethnic(run: Run) -> str:
    return f"{_page(run, '1304', {})['recordCounts']} 条"


@step("1312", "医保目录信息下载", tiers=BOTH, order=37)
def hilist(run: Run) -> str:
    output = _page(run, "1312", {})
    expect(output["recordCounts"] > 0, "1312 医保目录为空")
    codes = {row["hilist_code"] for row in output["data"]}
    first = output["data"][0]
    expect(first["chrgitm_lv"] in {"01", "02", "03"}, "1312 chrgitm_lv 应为 01/02/03")
    return f"{output['recordCounts']} 条，首页 {len(codes)} 个编码"


@step("1316", "医疗目录与医保目录匹配信息查询", tiers=CLINIC, order=38)
def matches(run: Run) -> str:
    return f"{_page(run, '1316', {})['recordCounts']} 条"


@step("1317", "医药机构目录匹配信息查询", tiers=BOTH, order=39)
def mappings(run: Run) -> str:
    output = _page(run, "1317", {})
    own = {row["fixmedins_code"] for row in output["data"]}
    expect(own <= {run.client.code}, f"1317 只应返回本机构的对照：{own}")
    return f"本机构 {output['recordCounts']} 条"


@step("1318", "医保目录限价信息查询", tiers=BOTH, order=40)
def price_caps(run: Run) -> str:
    output = _page(run, "1318", {})
    expect(all(row["hilist_pric_uplmt_amt"] for row in output["data"]), "1318 缺少限价金额")
    return f"{output['recordCounts']} 条限价"


@step("1319", "医保目录先自付比例信息查询", tiers=CLINIC, order=41)
def selfpay(run: Run) -> str:
    output = _page(run, "1319", {})
    expect(all(row["selfpay_prop"] for row in output["data"]), "1319 缺少自付比例")
    return f"{output['recordCounts']} 条自付比例"


@step("1901", "字典表下载", tiers=PHARMACY, order=49)
def dictionary(run: Run) -> str:
    output = run.call("1901", {"data": {"type": "insutype", "parentValue": "", "valiFlag": "1"}})
    values = {row["value"] for row in output["list"]}
    expect(bool(values), "1901 insutype 字典为空")
    return f"insutype：{'、'.join(sorted(values))}"


@step("5102", "医执人员信息查询", tiers=BOTH, order=50)
def practitioners(run: Run) -> str:
    output = run.call("5102", {"data": {"prac_psn_type": "1"}})
    expect(output["feedetail"] == output["data"], "5102 feedetail 与 data 应一致")
    return f"医师 {len(output['feedetail'])} 名"


@step("100001", "政策项查询", tiers=BOTH, order=51)
def policy(run: Run) -> str:
    output = _page(run, "100001", {})
    codes = {row["poli_item_code"] for row in output["data"]}
    expect("DEDUCTIBLE" in codes, "100001 应有起付标准 DEDUCTIBLE")
    return f"{len(codes)} 项"


SENT = "selftest\t自检文件\n".encode()


@step("9101", "文件上传", tiers=BOTH, order=58)
def upload(run: Run) -> str:
    output = run.call(
        "9101",
        {
            "fsUploadIn": {
                "filename": "selftest.txt",
                "fixmedins_code": run.client.code,
                "in": base64.b64encode(SENT).decode("ascii"),
            }
        },
    )
    expect(output["sha256"] == hashlib.sha256(SENT).hexdigest(), "9101 SHA-256 不符")
    run.keep("uploaded", output["file_qury_no"])
    return str(output["file_qury_no"])


@step("9102", "文件下载", tiers=BOTH, order=59)
def download(run: Run) -> str:
    output = run.call("9102", {"fsDownloadIn": {"file_qury_no": run.need("uploaded")}})
    expect(base64.b64decode(output["file"]) == SENT, "9102 取回的内容与上传的不同")
    return f"{output['file_size']} 字节，内容一致"
