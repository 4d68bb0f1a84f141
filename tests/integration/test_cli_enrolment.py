"""The operators' CLI on a real database: persons, regions, contributions; bad input is one line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.support.world import new_id_number
from yibao.cli.main import app
from yibao.config import Settings

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_demo_then_regions_and_persons(cli_env: Settings) -> None:
    code, out = invoke("demo", "--persons", "20", "--months", "3", "--json")
    assert code == 0, out
    demo = json.loads(out)
    code, out = invoke("regions", "list", "--json")
    assert code == 0 and {r["admdvs"] for r in json.loads(out)} >= {"310000", "440300", "110000"}
    code, out = invoke("persons", "show", demo["demo_person"]["id_number"], "--json")
    shown = json.loads(out)
    assert shown["psn_no"] == demo["demo_person"]["psn_no"]
    assert shown["id_number"].startswith("310") and "*" in shown["id_number"]
    assert shown["account"]["balance"] != "0.00"
    code, out = invoke("demo", "--if-empty")
    assert code == 0 and "跳过" in out


def test_persons_add_and_bad_input(cli_env: Settings) -> None:
    invoke("demo", "--persons", "1", "--months", "1")
    id_number = new_id_number()
    code, out = invoke(
        "persons",
        "add",
        "--name",
        "赵敏",
        "--id-number",
        id_number,
        "--phone",
        "13912345678",
        "--region",
        "310000",
        "--insutype",
        "310",
        "--psn-type",
        "1101",
        "--employer",
        "某某公司",
        "--json",
    )
    assert code == 0, out
    assert json.loads(out)["psn_no"].startswith("310000")
    code, out = invoke(
        "persons",
        "add",
        "--name",
        "赵敏",
        "--id-number",
        id_number[:-1] + ("0" if id_number[-1] != "0" else "1"),
        "--phone",
        "13912345678",
        "--region",
        "310000",
        "--insutype",
        "310",
        "--psn-type",
        "1101",
        "--employer",
        "某某公司",
    )
    assert code == 2 and "校验位" in out and "Traceback" not in out
    code, out = invoke(
        "persons",
        "add",
        "--name",
        "赵敏",
        "--id-number",
        id_number,
        "--phone",
        "13912345678",
        "--region",
        "310000",
        "--insutype",
        "310",
        "--psn-type",
        "1101",
        "--employer",
        "某某公司",
    )
    assert code == 2 and "已存在" in out
    code, out = invoke(
        "persons",
        "add",
        "--name",
        "钱多",
        "--id-number",
        new_id_number(),
        "--phone",
        "13912345679",
        "--region",
        "999999",
        "--insutype",
        "310",
        "--psn-type",
        "1101",
        "--employer",
        "某某公司",
    )
    assert code == 2 and "999999" in out


def test_contributions_import_is_all_or_nothing_and_idempotent(
    cli_env: Settings, tmp_path: Path
) -> None:
    invoke("demo", "--persons", "1", "--months", "1")
    id_number = new_id_number(birth=__import__("datetime").date(1975, 3, 3))
    code, out = invoke(
        "persons",
        "add",
        "--name",
        "孙丽",
        "--id-number",
        id_number,
        "--phone",
        "13700001111",
        "--region",
        "310000",
        "--insutype",
        "310",
        "--psn-type",
        "1101",
        "--employer",
        "某某公司",
        "--json",
    )
    assert code == 0, out
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "id_number,month,base,employer_amount,personal_amount\n"
        f"{id_number},2026-01,10000,900,200\n"
        "110105194912310021,2026-01,10000,900,200\n"
        f"{id_number},2026-13,10000,900,200\n"
        f"{id_number},2026-02,10000,-1,200\n",
        encoding="utf-8",
    )
    code, out = invoke("contributions", "import", str(bad))
    assert code == 2
    assert "bad.csv:3" in out and "bad.csv:4" in out and "bad.csv:5" in out
    code, out = invoke("persons", "show", id_number, "--json")
    assert json.loads(out)["account"]["balance"] == "0.00"

    good = tmp_path / "good.csv"
    good.write_text(
        "id_number,month,base,employer_amount,personal_amount\n"
        f"{id_number},2026-01,10000,900,200\n"
        f"{id_number},2026-02,10000.50,900,200\n",
        encoding="utf-8",
    )
    for expected_loaded in (2, 0):
        code, out = invoke("contributions", "import", str(good), "--json")
        assert code == 0, out
        assert json.loads(out)["loaded"] == expected_loaded
    code, out = invoke("persons", "show", id_number, "--json")
    assert json.loads(out)["account"]["balance"] == "400.01"  # 2% of 10000 and of 10000.50


def test_missing_file_and_bad_header(cli_env: Settings, tmp_path: Path) -> None:
    code, out = invoke("contributions", "import", str(tmp_path / "nope.csv"))
    assert code == 2 and "找不到文件" in out
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("a,b\n1,2\n", encoding="utf-8")
    code, out = invoke("contributions", "import", str(wrong))
    assert code == 2 and "表头" in out


def test_persons_import_reports_every_bad_row_and_writes_nothing(
    cli_env: Settings, tmp_path: Path
) -> None:
    invoke("demo", "--persons", "1", "--months", "1")
    good_a, good_b = new_id_number(), new_id_number()
    header = "name,id_number,phone,region,insutype,psn_type,employer\n"
    bad = tmp_path / "persons.csv"
    bad.write_text(
        header
        + f"周杰,{good_a},13600000001,310000,310,1101,甲公司\n"
        + "吴用,123,13600000002,310000,310,1101,甲公司\n"
        + f"郑和,{good_b},13600000003,310000,390,1101,\n",
        encoding="utf-8",
    )
    code, out = invoke("persons", "import", str(bad))
    assert code == 2 and "persons.csv:3" in out and "persons.csv:4" in out
    assert invoke("persons", "show", good_a)[0] == 2  # nothing was written

    bad.write_text(
        header
        + f"周杰,{good_a},13600000001,310000,310,1101,甲公司\n"
        + f"郑和,{good_b},13600000003,440300,390,1501,\n",
        encoding="utf-8",
    )
    code, out = invoke("persons", "import", str(bad), "--json")
    assert code == 0, out
    assert json.loads(out)["imported"] == 2
    shown = json.loads(invoke("persons", "show", good_b, "--json")[1])
    assert shown["account"] is None  # residents have no personal account
    assert shown["enrolments"][0]["insutype"] == "390"
