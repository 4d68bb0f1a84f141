"""institutions and catalogue commands on a real database; bad input is one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from yibao.cli.main import app
from yibao.config import Settings

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_institutions(cli_env: Settings) -> None:
    code, out = invoke("demo", "--persons", "3", "--months", "2", "--json")
    assert code == 0, out
    demo = json.loads(out)
    assert demo["demo_institution"]["fixmedins_code"] == "H31010400012"
    assert demo["demo_institution"]["token"] == "42a1f37b33a602c75f945cc211a43688"
    assert demo["catalogue_items"] > 250 and demo["settlements"] >= 12
    assert demo["reference_records"] >= 60  # every catalogue kind (src/yibao/reference/demo)

    code, out = invoke(
        "institutions",
        "add",
        "H31010400099",
        "上海市徐汇区测试医院",
        "--region",
        "310000",
        "--level",
        "二级甲等",
        "--json",
    )
    assert code == 0, out
    added = json.loads(out)
    assert added["paasid"] == "h31010400099" and len(added["token"]) == 32
    assert (added["type"], added["level"], added["status"]) == ("H", "二级甲等", "active")

    code, out = invoke("institutions", "list", "--region", "310000", "--json")
    listed = {row["fixmedins_code"]: row for row in json.loads(out)}
    assert "H31010400099" in listed and "token" not in listed["H31010400099"]

    code, out = invoke("institutions", "rotate-token", "H31010400099", "--json")
    assert code == 0 and json.loads(out)["token"] != added["token"]
    code, out = invoke("institutions", "suspend", "H31010400099", "--json")
    assert code == 0 and json.loads(out)["status"] == "suspended"

    code, out = invoke("institutions", "add", "X123", "坏编码", "--region", "310000")
    assert code == 2 and "12位" in out
    code, out = invoke("institutions", "add", "H31010400099", "重复", "--region", "310000")
    assert code == 2 and "已存在" in out
    code, out = invoke("institutions", "add", "H44030500099", "跨省", "--region", "310000")
    assert code == 2 and "不在统筹区" in out
    code, out = invoke("institutions", "suspend", "H31010400098")
    assert code == 2 and "没有定点医药机构" in out


def test_catalogue_import(cli_env: Settings, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text(
        "med_list_codg,name,list_type,chrgitm_lv,selfpay_share,price_cap,spec,begin_date,end_date\n"
        "XA01ABD075A002010100483,阿莫西林胶囊,药品,甲类,,,0.25g*24粒,2025-01-01,\n"
        "XC09AAD012A001010104291,缬沙坦胶囊,drug,02,10,35.00,80mg*7粒,2025-01-01,2026-12-31\n",
        encoding="utf-8",
    )
    code, out = invoke("catalogue", "import", str(good), "--json")
    assert code == 0, out
    assert json.loads(out) == {"loaded": 2, "updated": 0}
    code, out = invoke("catalogue", "import", str(good), "--json")
    assert json.loads(out) == {"loaded": 0, "updated": 2}

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "med_list_codg,name,list_type,chrgitm_lv,selfpay_share,price_cap,spec,begin_date,end_date\n"
        "XA01ABD075A002010100999,好药,drug,01,,,,,\n"
        "XA01,坏等级,drug,04,,,,,\n"
        "XA01ABD075A002010100998,甲类带比例,drug,01,10,,,,\n"
        "XA01ABD075A002010100997,坏限价,drug,02,,12.345,,,\n"
        "XA01ABD075A002010100996,坏日期,drug,02,,,,2025-13-01,\n",
        encoding="utf-8",
    )
    code, out = invoke("catalogue", "import", str(bad))
    assert code == 2
    assert "第3行" in out and "收费项目等级" in out
    assert "第4行" in out and "只有乙类" in out
    assert "第5行" in out and "限价" in out
    assert "第6行" in out and "YYYY-MM-DD" in out
    assert "未导入任何记录" in out
    code, out = invoke("catalogue", "import", str(tmp_path / "missing.csv"))
    assert code == 2 and "找不到文件" in out
