"""The rules of 对账: totals compared figure by figure, lines by setl_id, and the detail file."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest

from yibao.kernel.errors import InvalidInput
from yibao.settlement.reconciliation import (
    DetailLine,
    Difference,
    InvalidDetailFile,
    Period,
    Totals,
    compare_details,
    compare_totals,
    read_detail_file,
    result_file,
    result_line,
)


def test_totals_match_or_name_each_figure_that_differs() -> None:
    ours = Totals(2, 6000, 5400, 600)
    assert compare_totals(ours, ours).stmt_rslt == "0"
    result = compare_totals(Totals(3, 6000, 5400, 601), ours)
    assert result.stmt_rslt == "1"
    assert "结算笔数（fixmedins_setl_cnt）本机构 3 笔，医保 2 笔" in result.description
    assert "个人账户支付（acct_pay）本机构 6.01 元，医保 6.00 元" in result.description
    assert "医疗费总额" not in result.description


def _line(setl_id: str, medfee: int = 3000) -> DetailLine:
    return DetailLine(setl_id, "M1", "P1", medfee, 2700, 300)


def test_lines_only_on_one_side_or_with_other_amounts() -> None:
    ours = {"A": _line("A"), "B": _line("B"), "C": _line("C")}
    theirs = {"A": _line("A"), "B": _line("B", 3100), "D": _line("D")}
    result = compare_details(ours, theirs, {"D": "医保已撤销这笔结算"})
    kinds = {d.setl_id: d.kind for d in result.differences}
    assert kinds == {
        "B": Difference.AMOUNTS_DIFFER,
        "C": Difference.YIBAO_ONLY,
        "D": Difference.INSTITUTION_ONLY,
    }
    assert result.matched == ["A"]
    memo = {d.setl_id: d.memo for d in result.differences}
    assert "医保 医疗费 30.00" in memo["B"] and "机构 医疗费 31.00" in memo["B"]
    assert "已撤销" in memo["D"]
    [line] = [result_line(d, "MSG") for d in result.differences if d.setl_id == "C"]
    assert line[:5] == ["P1", "M1", "C", "MSG", "1"]
    with zipfile.ZipFile(io.BytesIO(result_file("r.txt", [line]))) as archive:
        assert archive.read("r.txt").decode().split("\t")[2] == "C"


def _zip(text: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("d.txt", text)
    return buffer.getvalue()


def test_the_detail_file_zipped_or_plain_utf8_or_gb18030() -> None:
    text = "A\tM1\tP1\t30\t27.0\t3.00\t0\r\nB\tM2\tP2\t1.00\t0.00\t1.00\n\n"
    expected = {"A": DetailLine("A", "M1", "P1", 3000, 2700, 300), "B": _line("B", 100)}
    expected["B"] = DetailLine("B", "M2", "P2", 100, 0, 100)
    assert read_detail_file(_zip(text.encode())) == expected
    assert read_detail_file(b"\xef\xbb\xbf" + text.encode()) == expected
    assert read_detail_file(text.encode("gb18030")) == expected
    spaced = "A \tM1\tP1\t30\t27.0\t3.00\t\n"
    assert read_detail_file(spaced.encode())["A"].medfee_sumamt == 3000


def test_a_settlement_with_its_refund_line_drops_out() -> None:
    text = "A\tM1\tP1\t30\t27\t3\t0\nA\tM1\tP1\t30\t27\t3\t1\nB\tM2\tP2\t1\t0\t1\t0\n"
    assert set(read_detail_file(text.encode())) == {"B"}


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("A\tM1\tP1\t30\t27\n", "第1行应为 6 或 7 列"),
        ("A\tM1\tP1\tabc\t27\t3\n", "第1行 medfee_sumamt"),
        ("A\tM1\tP1\t-1\t27\t3\n", "第1行 medfee_sumamt"),
        ("A\tM1\tP1\t1.001\t27\t3\n", "第1行 medfee_sumamt"),
        ("A\tM1\tP1\t1\t1\t1\t2\n", "第1行 refd_setl_flag"),
        ("A\tM1\tP1\t1\t1\t1\nA\tM1\tP1\t1\t1\t1\n", "第2行 setl_id 重复"),
        ("\tM1\tP1\t1\t1\t1\n", "第1行 setl_id"),
    ],
)
def test_a_bad_line_is_named(text: str, named: str) -> None:
    with pytest.raises(InvalidDetailFile) as caught:
        read_detail_file(text.encode())
    assert named in caught.value.message


def test_a_bad_zip_and_bad_periods() -> None:
    with pytest.raises(InvalidDetailFile):
        read_detail_file(b"PK\x03\x04 not a zip")
    with pytest.raises(InvalidInput, match="stmt_enddate"):
        Period.of(date(2026, 12, 2), date(2026, 12, 1), "input.data")
    with pytest.raises(InvalidInput, match="366"):
        Period.of(date(2025, 1, 1), date(2026, 12, 1), "input.data")
    start, stop = Period.of(date(2026, 12, 1), date(2026, 12, 1), "x").bounds()
    assert (stop - start).days == 1 and start.utcoffset() is not None
