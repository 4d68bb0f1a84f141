"""Reconciliation (对账) of an institution's settlements with yibao's.

Rules:
- A period is whole days of Beijing time, `stmt_begndate` to `stmt_enddate` inclusive, at most
  `MAX_PERIOD_DAYS` long. A settlement belongs to the day of its `setl_time`.
- What is counted is what stands: settlements of the period that are not cancelled. A settlement
  cancelled (2208/2103, or 2601 of the message that made it) counts in no period, as an HIS that
  marks the original void computes it; a detail line the institution sends twice, as a
  settlement (`refd_setl_flag` 0) and as its refund (1), stands for a cancelled one and drops out.
- 3201 (对总账) compares four figures of one insurance type and settlement class: the count, the
  bill total, the funds' total and the personal-account total. All equal: 平 (`stmt_rslt` 0);
  otherwise 不平 (1), and the description names each figure that differs with both values.
- 3202 (对明细账) compares line by line, keyed by `setl_id`: a settlement only yibao has (often one
  whose answer never reached the institution: it can confirm it after a 5203, or reverse it with
  2601), one only the institution has, and one whose amounts differ.
- A settlement an earlier 3202 found only at yibao, which a later 3202 of the institution lists
  with the same amounts, is confirmed: the confirmation is recorded once.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from yibao.kernel.clock import CHINA_TZ
from yibao.kernel.errors import InvalidInput
from yibao.kernel.money import Fen, InvalidAmount, format_yuan, parse_yuan

MAX_PERIOD_DAYS = 366
MAX_DETAIL_LINES = 1_000_000

# 清算类别 (clr_type) → the medical types (med_type) it covers. The national codes are regional
# dictionaries; these three are the ones a clinic and a pharmacy send.
CLEARING_CLASSES: dict[str, tuple[str, ...]] = {
    "11": ("11", "13", "14"),  # 门诊 (普通门诊, 急诊, 门诊慢特病)
    "21": ("21",),  # 住院
    "41": ("41",),  # 定点药店购药
}

INSURANCE_TYPES = frozenset({"310", "320", "330", "340", "390", "392", "510"})

MATCH, MISMATCH = "0", "1"  # stmt_rslt: 平, 不平


class Difference(StrEnum):
    YIBAO_ONLY = "yibao_only"
    INSTITUTION_ONLY = "institution_only"
    AMOUNTS_DIFFER = "amounts_differ"


# The code of a difference line in the 3202 result file (its stmt_rslt column) and its words.
DIFFERENCE_CODES = {
    Difference.YIBAO_ONLY: "1",
    Difference.INSTITUTION_ONLY: "2",
    Difference.AMOUNTS_DIFFER: "3",
}


class InvalidDetailFile(InvalidInput):
    code = "invalid_detail_file"


@dataclass(frozen=True, slots=True)
class Period:
    begin: date
    end: date

    @classmethod
    def of(cls, begin: date, end: date, where: str) -> Period:
        if end < begin:
            raise InvalidInput(f"{where}.stmt_enddate 不能早于 stmt_begndate")
        if (end - begin).days + 1 > MAX_PERIOD_DAYS:
            raise InvalidInput(f"{where}.stmt_enddate 对账期间最长 {MAX_PERIOD_DAYS} 天")
        return cls(begin, end)

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as [start, end) instants (Beijing midnights)."""
        start = datetime.combine(self.begin, time(), CHINA_TZ)
        stop = datetime.combine(self.end + timedelta(days=1), time(), CHINA_TZ)
        return start, stop


@dataclass(frozen=True, slots=True)
class Totals:
    count: int
    medfee_sumamt: Fen
    fund_pay_sumamt: Fen
    acct_pay: Fen


@dataclass(frozen=True, slots=True)
class TotalsResult:
    matches: bool
    description: str

    @property
    def stmt_rslt(self) -> str:
        return MATCH if self.matches else MISMATCH


_FIGURES = (
    ("fixmedins_setl_cnt", "结算笔数"),
    ("medfee_sumamt", "医疗费总额"),
    ("fund_pay_sumamt", "基金支付总额"),
    ("acct_pay", "个人账户支付"),
)


def compare_totals(theirs: Totals, ours: Totals) -> TotalsResult:
    pairs = (
        (theirs.count, ours.count, False),
        (theirs.medfee_sumamt, ours.medfee_sumamt, True),
        (theirs.fund_pay_sumamt, ours.fund_pay_sumamt, True),
        (theirs.acct_pay, ours.acct_pay, True),
    )
    differing = [
        f"{words}（{name}）本机构 {_shown(a, money)}，医保 {_shown(b, money)}"
        for (name, words), (a, b, money) in zip(_FIGURES, pairs, strict=True)
        if a != b
    ]
    if not differing:
        return TotalsResult(
            True, f"对账一致：{ours.count} 笔，医疗费总额 {format_yuan(ours.medfee_sumamt)} 元"
        )
    return TotalsResult(False, "对账不一致：" + "；".join(differing))


def _shown(value: int, money: bool) -> str:
    return f"{format_yuan(value)} 元" if money else f"{value} 笔"


@dataclass(frozen=True, slots=True)
class DetailLine:
    """One settlement as one side keeps it."""

    setl_id: str
    mdtrt_id: str
    psn_no: str
    medfee_sumamt: Fen
    fund_pay_sumamt: Fen
    acct_pay: Fen

    def amounts(self) -> tuple[int, int, int]:
        return (self.medfee_sumamt, self.fund_pay_sumamt, self.acct_pay)


@dataclass(frozen=True, slots=True)
class DetailDifference:
    kind: Difference
    setl_id: str
    ours: DetailLine | None
    theirs: DetailLine | None
    memo: str


@dataclass(frozen=True, slots=True)
class DetailResult:
    differences: list[DetailDifference]
    matched: list[str]  # setl_ids on both sides with the same amounts

    @property
    def matches(self) -> bool:
        return not self.differences


YIBAO_ONLY_MEMO = "医保有此结算、机构无：可能是未收到应答的结算，请用 5203 查询后记账（再次对账即确认），或用 2601 冲正"
AMOUNTS_MEMO = "金额不符：医保 {ours}，机构 {theirs}"


def compare_details(
    ours: Mapping[str, DetailLine],
    theirs: Mapping[str, DetailLine],
    elsewhere: Mapping[str, str],
) -> DetailResult:
    """`elsewhere`: for setl_ids only the institution has, why yibao does not count them
    (cancelled, another period …), as words for the memo."""
    differences: list[DetailDifference] = []
    matched: list[str] = []
    for setl_id, mine in ours.items():
        other = theirs.get(setl_id)
        if other is None:
            differences.append(
                DetailDifference(Difference.YIBAO_ONLY, setl_id, mine, None, YIBAO_ONLY_MEMO)
            )
        elif other.amounts() != mine.amounts():
            memo = AMOUNTS_MEMO.format(ours=_amounts(mine), theirs=_amounts(other))
            differences.append(
                DetailDifference(Difference.AMOUNTS_DIFFER, setl_id, mine, other, memo)
            )
        else:
            matched.append(setl_id)
    for setl_id, other in theirs.items():
        if setl_id not in ours:
            memo = "机构有此结算、医保无：" + elsewhere.get(setl_id, "医保没有这笔结算")
            differences.append(
                DetailDifference(Difference.INSTITUTION_ONLY, setl_id, None, other, memo)
            )
    return DetailResult(differences, matched)


def _amounts(line: DetailLine) -> str:
    return (
        f"医疗费 {format_yuan(line.medfee_sumamt)}、基金 {format_yuan(line.fund_pay_sumamt)}、"
        f"个人账户 {format_yuan(line.acct_pay)}"
    )


def describe_details(result: DetailResult, compared: int) -> str:
    if result.matches:
        return f"明细一致：{compared} 笔"
    counts = {kind: 0 for kind in Difference}
    for difference in result.differences:
        counts[difference.kind] += 1
    parts = [
        f"医保有、机构无 {counts[Difference.YIBAO_ONLY]} 笔",
        f"机构有、医保无 {counts[Difference.INSTITUTION_ONLY]} 笔",
        f"金额不符 {counts[Difference.AMOUNTS_DIFFER]} 笔",
    ]
    return "明细不一致：" + "，".join(parts)


def totals_of(lines: Iterable[DetailLine]) -> Totals:
    count = medfee = fund = acct = 0
    for line in lines:
        count += 1
        medfee += line.medfee_sumamt
        fund += line.fund_pay_sumamt
        acct += line.acct_pay
    return Totals(count, medfee, fund, acct)


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
