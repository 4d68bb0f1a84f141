"""`yibao catalogue`: load the catalogues institutions download and query, from CSV.

    yibao catalogue import western drugs.csv        # 1301 西药中成药, by kind name …
    yibao catalogue import 1309 chronic.csv         # … or by its transaction code
    yibao catalogue import hilist.csv               # the 医保目录 settlement applies (1312/1318/1319)
    yibao catalogue kinds                           # every kind and its columns

The CSV's header names the national fields (any subset of the kind's, the required ones
included); UTF-8 (with or without BOM) or GB18030 is detected, or named with --encoding. Every
line is checked first: one bad line and nothing is written, each problem printed with its line,
column and reason. Otherwise the whole file is written in one transaction under a new version.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.cli.context import console, err_console, fail, print_json, run_in_session
from yibao.cli.settlement import CATALOGUE_COLUMNS
from yibao.reference import service
from yibao.reference.domain import KINDS, Kind, UnknownKind, check_rows, importable, kind_named
from yibao.runtime import Runtime
from yibao.settlement import service as settlement

catalogue_app = typer.Typer(help="医保目录与基础信息: import, kinds", no_args_is_help=True)

HILIST = {"hilist", "1312", "医保目录"}
ENCODINGS = {"auto", "utf-8", "gb18030"}
SHOWN_PROBLEMS = 50


def decode(path: Path, encoding: str) -> str:
    if not path.exists():
        fail(f"找不到文件 {path}")
    raw = path.read_bytes()
    if encoding not in ENCODINGS:
        fail(f"--encoding 应为 {'、'.join(sorted(ENCODINGS))} 之一")
    tried = ["utf-8", "gb18030"] if encoding == "auto" else [encoding]
    for name in tried:
        try:
            text = raw.decode("utf-8-sig" if name == "utf-8" else name)
        except UnicodeDecodeError as exc:
            if encoding != "auto" or name == tried[-1]:
                line = raw[: exc.start].count(b"\n") + 1
                fail(f"{path}: 第{line}行不是有效的 {name.upper()} 编码（可用 --encoding 指定）")
            continue
        return text
    raise AssertionError("unreachable")


def read_rows(text: str) -> tuple[list[str], list[tuple[int, dict[str, str]]], list[str]]:
    """The header, each line's fields by header name, and lines whose column count is wrong."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        return [], [], ["第1行: 文件为空，应有表头"]
    rows: list[tuple[int, dict[str, str]]] = []
    problems = []
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            problems.append(f"第{line}行: 有{len(values)}列，表头有{len(header)}列")
            continue
        rows.append((line, dict(zip(header, values, strict=True))))
    return header, rows, problems


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
    )


def _line_of(problem: str) -> int:
    digits = problem[1 : problem.index("行")] if problem.startswith("第") else ""
    return int(digits) if digits.isdigit() else 0


def _refuse(path: Path, problems: list[str]) -> None:
    for problem in problems[:SHOWN_PROBLEMS]:
        err_console.print(f"{path}: {problem}", highlight=False, soft_wrap=True)
    if len(problems) > SHOWN_PROBLEMS:
        err_console.print(f"……另有 {len(problems) - SHOWN_PROBLEMS} 处问题未列出")
    fail(f"{len(problems)} 处有误，未导入任何记录")


def _import_hilist(path: Path, text: str, as_json: bool) -> None:
    header, rows, problems = read_rows(text)
    missing = [c for c in CATALOGUE_COLUMNS[:4] if c not in header]
    if missing:
        fail(f"{path}: 表头缺少列 {', '.join(missing)}（应为 {','.join(CATALOGUE_COLUMNS)}）")
    if problems:
        _refuse(path, problems)
    parsed = [
        (line, settlement.CatalogueRow(**{c: raw.get(c) or "" for c in CATALOGUE_COLUMNS}))
        for line, raw in rows
    ]

    async def _work(runtime: Runtime, session: AsyncSession) -> settlement.CatalogueReport:
        return await settlement.import_catalogue(session, parsed, now=runtime.clock.now())

    report = run_in_session(_work)
    if report.errors:
        _refuse(path, report.errors)
    if as_json:
        print_json({"loaded": report.loaded, "updated": report.updated})
    else:
        console.print(f"目录已导入: 新增 {report.loaded} 条, 更新 {report.updated} 条")


def _import_kind(kind: Kind, path: Path, text: str, as_json: bool) -> None:
    header, rows, problems = read_rows(text)
    if problems:  # every problem of the file at once, before the database is opened
        checked = check_rows(kind, header, rows).problems
        _refuse(path, sorted(problems + [str(p) for p in checked], key=_line_of))

    async def _work(runtime: Runtime, session: AsyncSession) -> service.ImportReport:
        with _progress() as progress:
            task = progress.add_task(f"{kind.infno} {kind.name}", total=len(rows))
            return await service.import_records(
                session,
                runtime.clock,
                runtime.cipher,
                kind,
                header,
                rows,
                lambda done: progress.advance(task, done),
            )

    report = run_in_session(_work)
    if report.problems:
        _refuse(path, [str(p) for p in report.problems])
    result: dict[str, Any] = {
        "kind": kind.infno,
        "name": kind.name,
        "version": report.version,
        "added": report.added,
        "changed": report.changed,
        "unchanged": report.unchanged,
    }
    if as_json:
        print_json(result)
        return
    console.print(
        f"{kind.infno} {kind.name}已导入: 新增 {report.added} 条, 更新 {report.changed} 条, "
        f"未变 {report.unchanged} 条"
        + (f"（版本 {report.version}）" if report.version else "（无变化，版本不变）"),
        highlight=False,
    )


@catalogue_app.command("import")
def import_(
    first: str = typer.Argument(..., help="KIND（如 western、1301、dictionary）或 CSV 文件"),
    second: str = typer.Argument(None, help="CSV 文件（省略 KIND 时为医保目录 hilist）"),
    encoding: str = typer.Option("auto", "--encoding", help="auto | utf-8 | gb18030"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Load one kind of catalogue from CSV: every line or none (`yibao catalogue kinds`)."""
    name, path = ("hilist", Path(first)) if second is None else (first, Path(second))
    if name.strip().lower() in HILIST:
        _import_hilist(path, decode(path, encoding), as_json)
        return
    try:
        kind = kind_named(name)
    except UnknownKind as exc:
        fail(exc.message)
    _import_kind(kind, path, decode(path, encoding), as_json)


@catalogue_app.command("kinds")
def kinds(as_json: bool = typer.Option(False, "--json")) -> None:
    """Every kind `import` loads, the transaction that answers it and its CSV columns."""
    listed: list[dict[str, Any]] = [
        {
            "kind": k.slug,
            "infno": k.infno,
            "name": k.name,
            "delivery": k.delivery,
            "required": list(k.required),
            "columns": list(importable(k)),
        }
        for k in KINDS.values()
    ]
    listed.insert(
        0,
        {
            "kind": "hilist",
            "infno": "1312/1318/1319",
            "name": "医保目录",
            "delivery": "page",
            "required": CATALOGUE_COLUMNS[:4],
            "columns": CATALOGUE_COLUMNS,
        },
    )
    if as_json:
        print_json(listed)
        return
    table = Table("kind", "交易", "名称", "必填列", "列")
    for k in listed:
        table.add_row(
            str(k["kind"]),
            str(k["infno"]),
            str(k["name"]),
            ",".join(k["required"]),
            ",".join(k["columns"]),
        )
    console.print(table)
