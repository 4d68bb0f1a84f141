"""Reference data rules: versions only grow, pages count right, a file line never shifts."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest

from yibao.reference.domain import (
    KINDS,
    InvalidQuery,
    Page,
    check_rows,
    kind_named,
    next_version,
    page_answer,
    parse_version,
    tsv_zip,
)


@pytest.mark.parametrize(
    ("sent", "held"), [("0", 0), ("", 0), (None, 0), ("1.0", 1), (20261207000003, 20261207000003)]
)
def test_a_version_is_read_as_clients_send_it(sent: object, held: int) -> None:
    assert parse_version(sent) == held


@pytest.mark.parametrize("sent", ["abc", "-1", "1e5", "１２"])
def test_anything_else_is_refused_naming_the_field(sent: str) -> None:
    with pytest.raises(InvalidQuery, match="input.data.ver"):
        parse_version(sent, "input.data.ver")


def test_versions_only_grow_and_say_their_day() -> None:
    day = date(2026, 12, 8)
    assert next_version(0, day) == 20261208000001
    assert next_version(20261208000001, day) == 20261208000002
    assert next_version(20261209000005, day) == 20261209000006  # a clock set back still grows


def test_page_counts() -> None:
    answer = page_answer(Page(3, 2), 5, [{"a": 1}])
    assert (answer["pages"], answer["size"], answer["firstPage"], answer["lastPage"]) == (
        3,
        1,
        False,
        True,
    )
    assert page_answer(Page(1, 100), 0, [])["pages"] == 0


def test_a_tab_or_line_break_inside_a_field_does_not_shift_the_line() -> None:
    content = tsv_zip("a.txt", [["X1", "名称\t带制表符", "两\n行"], ["X2", "", ""]])
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        lines = archive.read("a.txt").decode().splitlines()
    assert [len(line.split("\t")) for line in lines] == [3, 3]


def test_kinds_are_found_by_code_or_name_and_each_lists_its_key_fields() -> None:
    assert kind_named("1306a") is KINDS["1306A"] and kind_named("Western") is KINDS["1301"]
    for kind in KINDS.values():
        assert set(kind.key) <= set(kind.columns) and kind.code in kind.columns
        assert set(kind.required) <= set(kind.columns)


def test_a_27_character_consumable_code_is_checked() -> None:
    kind = KINDS["1306A"]
    checked = check_rows(
        kind, ["med_list_codg", "mcs_name"], [(2, {"med_list_codg": "C123", "mcs_name": "输液器"})]
    )
    assert [str(p) for p in checked.problems] == ["第2行 med_list_codg 列: 编码应为27位，收到4位"]


def test_a_practitioners_id_number_is_kept_masked() -> None:
    kind = KINDS["5102"]
    header = ["prac_psn_code", "prac_psn_name", "prac_psn_type", "certno"]
    row = {"prac_psn_code": "D1", "prac_psn_name": "王芳", "prac_psn_type": "1"}
    checked = check_rows(kind, header, [(2, {**row, "certno": "44030519800101123x"})])
    (record,) = checked.records
    assert record.fields["certno"] == "440***********123X"
    assert record.certno == "44030519800101123X"  # for its keyed hash only, never stored
