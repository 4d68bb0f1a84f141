"""The month's contribution files as a run reads them: streamed a batch of lines at a time from a
byte offset (so a resumed run seeks to where its last commit stopped), each line decoded on its
own (a line in another encoding is refused alone, not the file)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from yibao.crediting.domain import HEADER, InvalidRun, Refusal, header_columns, missing_columns


def files_of(source: Path) -> list[Path]:
    """A file, or the CSV files of a directory (one per employer) in name order."""
    if source.is_dir():
        found = sorted(p for p in source.iterdir() if p.is_file() and p.suffix.lower() == ".csv")
        if not found:
            raise InvalidRun(f"目录 {source} 中没有 .csv 文件")
        return found
    if not source.is_file():
        raise InvalidRun(f"找不到文件 {source}")
    return [source]


def fingerprint(files: list[Path]) -> str:
    return json.dumps(
        [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in files], ensure_ascii=False
    )


def file_names(fingerprint_json: str) -> list[str]:
    return [str(entry[0]) for entry in json.loads(fingerprint_json)]


@dataclass(frozen=True, slots=True)
class RawLine:
    file_index: int
    line_no: int
    fields: list[str] | Refusal
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Chunk:
    """Lines read, and where reading goes on from after them."""

    lines: list[RawLine]
    columns: dict[str, int] | None  # the file's header; None when the header was refused
    file_index: int
    offset: int
    line_no: int


def _fields(text: str) -> list[str]:
    if '"' not in text:
        return text.split(",")
    return next(csv.reader([text]), [])


def _decode(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        return None


def read(
    files: list[Path], file_index: int, offset: int, line_no: int, batch: int
) -> Iterator[Chunk]:
    """Chunks of up to `batch` lines from (file, byte offset, line number) to the end."""
    for index in range(file_index, len(files)):
        start, number = (offset, line_no) if index == file_index else (0, 0)
        with files[index].open("rb") as handle:
            header = handle.readline()
            text = _decode(header)
            names = _fields(text.lstrip("\ufeff")) if text is not None else []
            columns = header_columns(names) if text is not None else Refusal.ENCODING
            if start == 0:
                start, number = handle.tell(), 1
                if isinstance(columns, Refusal):
                    detail = None
                    if columns is Refusal.HEADER:
                        detail = "缺少列 " + "、".join(missing_columns(names))
                    # The whole file is one refused line: its rows cannot be read without it.
                    handle.seek(0, 2)
                    yield Chunk([RawLine(index, 1, columns, detail)], None, index, handle.tell(), 1)
                    continue
            if isinstance(columns, Refusal):
                continue
            handle.seek(start)
            lines: list[RawLine] = []
            position = start
            for raw in handle:
                position += len(raw)
                number += 1
                text = _decode(raw)
                if text is None:
                    lines.append(RawLine(index, number, Refusal.ENCODING))
                elif text.strip():
                    lines.append(RawLine(index, number, _fields(text)))
                if len(lines) >= batch:
                    yield Chunk(lines, columns, index, position, number)
                    lines = []
            yield Chunk(lines, columns, index, position, number)


__all__ = ["HEADER", "Chunk", "RawLine", "file_names", "files_of", "fingerprint", "read"]
