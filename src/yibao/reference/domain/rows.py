"""One imported line of a catalogue: checked field by field, every problem named by line and column."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from yibao.kernel.idnumber import mask_id_number
from yibao.reference.domain.kinds import Kind

MAX_TEXT = 500
# Import columns that yibao fills itself; `vali_flag` may be imported (0 withdraws a record).
GENERATED = frozenset({"rid", "crte_time", "updt_time", "ver", "ver_name"})
_CODE = re.compile(r"[\x21-\x7e]{1,50}")
_INSTITUTION = re.compile(r"[HP][0-9]{11}")


@dataclass(frozen=True, slots=True)
class Problem:
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"第{self.line}行" + (f" {self.column} 列" if self.column else "")
        return f"{where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Record:
    """One record as it will be stored: its key, searchable parts and every national field."""

    key: str
    code: str
    name: str
    group: str | None
    parent: str | None
    vali_flag: str
    begndate: date | None
    enddate: date | None
    fields: dict[str, str]
    # 5102: the practitioner's ID number, kept only as a keyed hash and masked (rule 8).
    certno: str | None = None


@dataclass
class Checked:
    records: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def importable(kind: Kind) -> tuple[str, ...]:
    return tuple(c for c in kind.columns if c not in GENERATED)


def check_header(kind: Kind, header: list[str]) -> list[Problem]:
    allowed = set(importable(kind))
    problems = [
        Problem(1, name, f"不是{kind.name}（{kind.infno}）的字段")
        for name in header
        if name not in allowed
    ]
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problems.append(Problem(1, name, "表头中重复出现"))
        seen.add(name)
    problems += [Problem(1, name, "表头缺少必填列") for name in kind.required if name not in header]
    return problems


def _refused(text: str) -> str | None:
    if text.isprintable():  # no Cc, Cf, Cs, Co or Cn character: the usual value, at C speed
        return None
    for char in text:
        if unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co"}:
            return f"含不可见或控制字符 U+{ord(char):04X}"
    return None


def check_line(kind: Kind, line: int, raw: dict[str, str]) -> Record | list[Problem]:
    problems: list[Problem] = []
    fields: dict[str, str] = {}
    # The header was checked (check_header): only the kind's columns are in `raw`.
    for column in (*raw, *(c for c in kind.required if c not in raw)):
        value = (raw.get(column) or "").strip()
        if len(value) > MAX_TEXT:
            problems.append(Problem(line, column, f"超过{MAX_TEXT}个字符"))
            continue
        reason = _refused(value)
        if reason:
            problems.append(Problem(line, column, reason))
            continue
        if not value and column in kind.required:
            problems.append(Problem(line, column, "必填，不能为空"))
            continue
        fields[column] = value
    code = fields.get(kind.code, "")
    if code and not kind.code_ascii:
        if len(code) > 50 or any(c.isspace() for c in code):
            problems.append(Problem(line, kind.code, "编号应为1到50个字符（不含空格）"))
    elif code and not _CODE.fullmatch(code):
        problems.append(Problem(line, kind.code, "编码应为1到50位半角字母、数字或符号（不含空格）"))
    elif code and kind.code_length and len(code) != kind.code_length:
        problems.append(
            Problem(line, kind.code, f"编码应为{kind.code_length}位，收到{len(code)}位")
        )
    dates: dict[str, date | None] = {}
    for column in kind.dates:
        text = fields.get(column, "")
        try:
            dates[column] = date.fromisoformat(text) if text else None
        except ValueError:
            problems.append(Problem(line, column, f"应为日期 YYYY-MM-DD，收到 {text!r}"))
    begin, end = dates.get("begndate"), dates.get("enddate")
    if begin and end and end < begin:
        problems.append(Problem(line, "enddate", "结束日期早于开始日期"))
    flag = fields.get("vali_flag", "") or "1"
    if flag not in {"0", "1"}:
        problems.append(Problem(line, "vali_flag", "有效标志应为 1（有效）或 0（无效）"))
    institution = fields.get("fixmedins_code", "")
    if (
        "fixmedins_code" in kind.required
        and institution
        and not _INSTITUTION.fullmatch(institution)
    ):
        problems.append(Problem(line, "fixmedins_code", "应为12位定点医药机构编号（H/P开头）"))
    sort = fields.get("sort", "")
    if sort and not (sort.isascii() and sort.isdigit()):
        problems.append(Problem(line, "sort", "排序应为非负整数"))
    certno = fields.get("certno", "").upper() or None  # an ID number's x is X
    if certno is not None:
        if not _CODE.fullmatch(certno):
            problems.append(Problem(line, "certno", "证件号码应为半角字母或数字"))
        else:
            fields["certno"] = mask_id_number(certno)
    if problems:
        return problems
    fields["vali_flag"] = flag
    return Record(
        key="\t".join(fields.get(c, "") for c in kind.key),
        code=code,
        name=fields.get(kind.title, ""),
        group=fields.get(kind.group) or None if kind.group else None,
        parent=fields.get(kind.parent) or None if kind.parent else None,
        vali_flag=flag,
        begndate=begin,
        enddate=end,
        fields=fields,
        certno=certno,
    )


def check_rows(kind: Kind, header: list[str], rows: list[tuple[int, dict[str, str]]]) -> Checked:
    """Every line checked; a key repeated within the file is a problem of its later line."""
    checked = Checked(problems=check_header(kind, header))
    if checked.problems:
        return checked
    first_line: dict[str, int] = {}
    for line, raw in rows:
        result = check_line(kind, line, raw)
        if isinstance(result, list):
            checked.problems += result
            continue
        if result.key in first_line:
            checked.problems.append(
                Problem(
                    line,
                    ",".join(kind.key),
                    f"与第{first_line[result.key]}行是同一条记录（{'、'.join(kind.key)} 相同）",
                )
            )
            continue
        first_line[result.key] = line
        checked.records.append(result)
    return checked
