"""Reference data handed to institutions (基础信息): catalogues, dictionaries, practitioners.

Rules:
- Every record carries the version (`ver`) of the import that last changed it. Versions only
  grow: a new import takes the larger of the last version + 1 and today's `yyyyMMdd000001`, so
  a version also says the day it was made. An import that leaves a record as it was leaves its
  version too, so a client that sends the last version it holds gets exactly what changed.
- A download (`delivery="file"`) answers the records newer than the client's `ver` as a zip
  holding one TAB-separated text file, fetched with 9102 by its `file_qury_no`; a query
  (`delivery="page"`) answers one page of at most 1000 records.
- An import is all or nothing: one bad line and nothing is written; each problem names its
  line, its column and the reason.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date
from math import ceil
from typing import Any

from yibao.kernel.errors import InvalidInput, NotFound
from yibao.reference.domain.kinds import BY_SLUG, KINDS, SYSTEM_FIELDS, Kind
from yibao.reference.domain.rows import Checked, Problem, Record, check_rows, importable

__all__ = [
    "BY_SLUG",
    "KINDS",
    "SYSTEM_FIELDS",
    "Checked",
    "InvalidImport",
    "InvalidQuery",
    "Kind",
    "Page",
    "Problem",
    "Record",
    "UnknownKind",
    "check_rows",
    "importable",
    "kind_named",
    "next_version",
    "page_answer",
    "parse_version",
    "tsv_zip",
]

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
_VERSION = re.compile(r"([0-9]{1,20})(\.[0-9]{1,6})?")


class InvalidQuery(InvalidInput):
    code = "invalid_reference_query"


class InvalidImport(InvalidInput):
    code = "invalid_reference_import"


class UnknownKind(NotFound):
    code = "unknown_reference_kind"


def kind_named(name: str) -> Kind:
    """A kind by its transaction code (1301, 1306A …) or its CLI name (western, dictionary …)."""
    kind = KINDS.get(name.strip().upper()) or BY_SLUG.get(name.strip().lower())
    if kind is None:
        known = "、".join(f"{k.infno} {k.slug}" for k in KINDS.values())
        raise UnknownKind(f"没有这类目录：{name}（可选：{known}）")
    return kind


def parse_version(raw: object, where: str = "ver") -> int:
    """The client's version: digits (`0` or empty for everything); `1.0`, as some SDKs send for a
    first download, counts by its integer part."""
    text = "" if raw is None else str(raw).strip()
    if not text:
        return 0
    found = _VERSION.fullmatch(text)
    if not found:
        raise InvalidQuery(f"{where} 应为版本号（数字，首次下载传 0），收到 {text[:30]!r}")
    return int(found.group(1))


def next_version(last: int, today: date) -> int:
    return max(last + 1, int(today.strftime("%Y%m%d")) * 1_000_000 + 1)


@dataclass(frozen=True, slots=True)
class Page:
    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @classmethod
    def read(cls, raw_number: object, raw_size: object, where: str) -> Page:
        return cls(
            _whole(raw_number, f"{where}.page_num", 1, 1, 1_000_000),
            _whole(raw_size, f"{where}.page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE),
        )


def _whole(raw: object, where: str, default: int, low: int, high: int) -> int:
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise InvalidQuery(f"{where} 应为{low}到{high}的整数")
    text = str(raw).strip()
    if not text.isascii() or not text.isdigit() or not (low <= int(text) <= high):
        raise InvalidQuery(f"{where} 应为{low}到{high}的整数，收到 {text[:20]!r}")
    return int(text)


def page_answer(page: Page, total: int, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The national page wrapping: the rows in `data`, the counts beside them."""
    pages = ceil(total / page.size) if total else 0
    return {
        "data": rows,
        "recordCounts": total,
        "pages": pages,
        "pageNum": page.number,
        "pageSize": page.size,
        "size": len(rows),
        "firstPage": page.number == 1,
        "lastPage": page.number >= pages,
    }


def _cell(value: str) -> str:
    # The national text files have no quoting: a TAB or a line break inside a field would
    # shift every later field of the line for a client that reads by position.
    return value.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def tsv_zip(inner_name: str, lines: list[list[str]]) -> bytes:
    text = "".join("\t".join(_cell(v) for v in line) + "\n" for line in lines)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(inner_name, text.encode("utf-8"))
    return buffer.getvalue()
