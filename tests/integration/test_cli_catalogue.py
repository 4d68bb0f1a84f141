"""`yibao catalogue import KIND PATH`: UTF-8 or GB18030, every line or none, each problem by
line and column; a second import of the same file changes nothing and spends no version."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from yibao.cli.main import app
from yibao.config import Settings

runner = CliRunner()

CHRONIC = (
    "opsp_dise_code,opsp_dise_name,opsp_dise_majcls_name,admdvs\n"
    "M03900,高血压,循环系统疾病,310000\n"
    "M01600,糖尿病,内分泌疾病,310000\n"
)


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_a_gb18030_file_loads_and_a_second_load_changes_nothing(
    cli_env: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "chronic.csv"
    path.write_bytes(CHRONIC.encode("gb18030"))
    code, out = invoke("catalogue", "import", "chronic", str(path), "--json")
    assert code == 0, out
    first = json.loads(out[out.index("{") :])
    assert (first["kind"], first["added"], first["changed"]) == ("1309", 2, 0)
    assert first["version"]
    code, out = invoke("catalogue", "import", "1309", str(path), "--json")
    again = json.loads(out[out.index("{") :])
    assert (again["unchanged"], again["version"]) == (2, None)


def test_bad_lines_are_each_named_and_nothing_is_loaded(cli_env: Settings, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(CHRONIC + "M 99,坏编码,,\nM02000,,,\nM03000,多一列,,,\n", encoding="utf-8-sig")
    code, out = invoke("catalogue", "import", "chronic", str(path))
    assert code == 2
    assert "第4行 opsp_dise_code 列: 编码应为" in out
    assert "第5行 opsp_dise_name 列: 必填，不能为空" in out
    assert "第6行: 有5列，表头有4列" in out
    assert out.index("第4行") < out.index("第5行") < out.index("第6行")
    assert "3 处有误，未导入任何记录" in out
    good = tmp_path / "good.csv"
    good.write_text(CHRONIC, encoding="utf-8")
    code, out = invoke("catalogue", "import", "chronic", str(good), "--json")
    assert json.loads(out[out.index("{") :])["added"] == 2  # the bad file left nothing


def test_a_wrong_encoding_or_kind_is_one_line(cli_env: Settings, tmp_path: Path) -> None:
    path = tmp_path / "chronic.csv"
    path.write_bytes(CHRONIC.encode("gb18030"))
    code, out = invoke("catalogue", "import", "chronic", str(path), "--encoding", "utf-8")
    assert code == 2 and "第2行不是有效的 UTF-8 编码" in out
    code, out = invoke("catalogue", "import", "nonsense", str(path))
    assert code == 2 and "没有这类目录" in out
    code, out = invoke("catalogue", "kinds", "--json")
    assert {k["infno"] for k in json.loads(out)} >= {"1301", "1306A", "1901", "5102"}
