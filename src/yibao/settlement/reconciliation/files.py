"""The files of 3202: reading the detail file an institution uploads with 9101 and writing
the result file of the differences, zipped, that it downloads; the file's line and size limits,
its columns, and the error a bad file answers with (naming the line and the field).
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from collections.abc import Iterable

from yibao.kernel.errors import InvalidInput
from yibao.kernel.money import InvalidAmount, format_yuan, parse_yuan
from yibao.settlement.reconciliation.comparing import DetailDifference, DetailLine, Difference

MAX_DETAIL_LINES = 1_000_000

# The code of a difference line in the 3202 result file (its stmt_rslt column) and its words.
DIFFERENCE_CODES = {
    Difference.YIBAO_ONLY: "1",
    Difference.INSTITUTION_ONLY: "2",
    Difference.AMOUNTS_DIFFER: "3",
}


class InvalidDetailFile(InvalidInput):
    code = "invalid_detail_file"


# --- the detail file an institution uploads with 9101 -------------------------------------------

DETAIL_COLUMNS = (
    "setl_id",
    "mdtrt_id",
    "psn_no",
    "medfee_sumamt",
    "fund_pay_sumamt",
    "acct_pay",
    "refd_setl_flag",
)


def read_detail_file(content: bytes) -> dict[str, DetailLine]:
    """The 3202 detail file: a zip holding one text file, or the text itself; UTF-8 (with or
    without BOM) or GB18030; a line per settlement, TAB-separated in `DETAIL_COLUMNS` order
    (`refd_setl_flag` may be left off: 0). A settlement with its refund line drops out."""
    text = _decode(_unzipped(content))
    standing: dict[str, DetailLine] = {}
    refunded: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        if number > MAX_DETAIL_LINES:
            raise InvalidDetailFile(f"明细文件超过 {MAX_DETAIL_LINES} 行")
        plain = _PLAIN_LINE.fullmatch(raw.rstrip("\r"))
        if plain is not None:  # the usual line, read with one match (a file has 100,000)
            setl_id, mdtrt_id, psn_no, medfee, fund, acct, flag = plain.groups("0")
            line = DetailLine(
                setl_id, mdtrt_id, psn_no, _plain_fen(medfee), _plain_fen(fund), _plain_fen(acct)
            )
        else:
            line, flag = _checked_line(raw, number)
        if flag == "1":
            refunded.add(line.setl_id)
        elif line.setl_id in standing:
            raise InvalidDetailFile(f"明细文件第{number}行 setl_id 重复")
        else:
            standing[line.setl_id] = line
    for setl_id in refunded:
        standing.pop(setl_id, None)
    return standing


_PLAIN_LINE = re.compile(
    r"([!-~]{1,30})\t([!-~]{1,30})\t([!-~]{1,30})"
    r"\t([0-9]{1,13}(?:\.[0-9]{1,2})?)\t([0-9]{1,13}(?:\.[0-9]{1,2})?)"
    r"\t([0-9]{1,13}(?:\.[0-9]{1,2})?)(?:\t([01]))?"
)


def _plain_fen(text: str) -> int:
    whole, _, cents = text.partition(".")
    return int(whole) * 100 + int(cents.ljust(2, "0"))


def _checked_line(raw: str, number: int) -> tuple[DetailLine, str]:
    """A line off the plain shape (spaces around fields, an empty flag …), or a bad one: checked
    field by field so that the error names the line and the field."""
    fields = [field.strip() for field in raw.split("\t")]
    if len(fields) not in (6, 7):
        raise InvalidDetailFile(
            f"明细文件第{number}行应为 6 或 7 列（以 TAB 分隔：{'、'.join(DETAIL_COLUMNS)}），"
            f"收到 {len(fields)} 列"
        )
    flag = fields[6] if len(fields) == 7 and fields[6] else "0"
    if flag not in {"0", "1"}:
        raise InvalidDetailFile(f"明细文件第{number}行 refd_setl_flag 应为 0 或 1")
    return _line(fields, number), flag


def _line(fields: list[str], number: int) -> DetailLine:
    for index, name in enumerate(DETAIL_COLUMNS[:3]):
        value = fields[index]
        if not value or len(value) > 30 or not value.isascii() or not value.isprintable():
            raise InvalidDetailFile(f"明细文件第{number}行 {name} 应为 1 到 30 位半角字符")
    amounts = []
    for index, name in enumerate(DETAIL_COLUMNS[3:6], start=3):
        fen = _fen(fields[index])
        if fen < 0:
            raise InvalidDetailFile(
                f"明细文件第{number}行 {name} 应为金额（元，最多13位整数、2位小数）"
            )
        amounts.append(fen)
    return DetailLine(fields[0], fields[1], fields[2], amounts[0], amounts[1], amounts[2])


_PLAIN_YUAN = re.compile(r"[0-9]{1,13}(?:\.[0-9]{1,2})?")


def _fen(text: str) -> int:
    """Yuan as a file writes them (12.3, 12.30, 12): a line's worth of Decimal per field is the
    slow part of a 100,000-line file, so the plain shape is read by hand; -1 when not an amount."""
    if _PLAIN_YUAN.fullmatch(text):
        whole, _, cents = text.partition(".")
        return int(whole) * 100 + int(cents.ljust(2, "0"))
    try:
        return parse_yuan(text, field="amount") if text.isascii() else -1
    except InvalidAmount:
        return -1


def _unzipped(content: bytes) -> bytes:
    if not content.startswith(b"PK"):
        return content
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
            if len(names) != 1:
                raise InvalidDetailFile("明细文件的 zip 应只含一个文本文件")
            if archive.getinfo(names[0]).file_size > 200 * 1024 * 1024:
                raise InvalidDetailFile("明细文件过大")
            return archive.read(names[0])
    except zipfile.BadZipFile as exc:
        raise InvalidDetailFile("明细文件不是有效的 zip") from exc


def _decode(raw: bytes) -> str:
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise InvalidDetailFile("明细文件应为 UTF-8 或 GB18030 编码的文本") from exc


RESULT_COLUMNS = (
    "psn_no",
    "mdtrt_id",
    "setl_id",
    "msgid",
    "stmt_rslt",
    "refd_setl_flag",
    "memo",
    "medfee_sumamt",
    "fund_pay_sumamt",
    "acct_pay",
    # yibao's own: what the institution's file said, so both sides of a line are on it.
    "fixmedins_medfee_sumamt",
    "fixmedins_fund_pay_sumamt",
    "fixmedins_acct_pay",
)


def _clean(value: str) -> str:
    return value.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def result_line(difference: DetailDifference, msgid: str | None) -> list[str]:
    side = difference.ours or difference.theirs
    assert side is not None  # a difference has at least one side
    ours, theirs = difference.ours, difference.theirs
    return [
        side.psn_no,
        side.mdtrt_id,
        difference.setl_id,
        msgid or "",
        DIFFERENCE_CODES[difference.kind],
        "0",
        _clean(difference.memo),
        format_yuan(ours.medfee_sumamt) if ours else "",
        format_yuan(ours.fund_pay_sumamt) if ours else "",
        format_yuan(ours.acct_pay) if ours else "",
        format_yuan(theirs.medfee_sumamt) if theirs else "",
        format_yuan(theirs.fund_pay_sumamt) if theirs else "",
        format_yuan(theirs.acct_pay) if theirs else "",
    ]


def result_file(name: str, lines: Iterable[list[str]]) -> bytes:
    """The 3202 result: a zip holding one UTF-8 text file, a TAB-separated line per difference
    in `RESULT_COLUMNS` order, no header (as the 13xx downloads)."""
    text = "".join("\t".join(line) + "\n" for line in lines)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, text.encode("utf-8"))
    return buffer.getvalue()
