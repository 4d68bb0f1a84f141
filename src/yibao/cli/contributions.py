"""contributions import: monthly records as an employer or the tax bureau delivers them."""

from __future__ import annotations

import csv
from pathlib import Path

import typer
from rich.progress import Progress
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.cli.context import console, fail, print_json, run_in_session
from yibao.contributions import service as contributions
from yibao.kernel.money import format_yuan
from yibao.runtime import Runtime

contributions_app = typer.Typer(help="缴费记录: import", no_args_is_help=True)

HEADER = ["id_number", "month", "base", "employer_amount", "personal_amount"]


def _read(path: Path) -> list[tuple[int, contributions.ContributionRow]]:
    if not path.exists():
        fail(f"找不到文件 {path}")
    rows = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if [h.strip() for h in reader.fieldnames or []][: len(HEADER)] != HEADER:
                fail(f"{path}: 表头应为 {','.join(HEADER)}")
            for line, raw in enumerate(reader, start=2):
                rows.append(
                    (
                        line,
                        contributions.ContributionRow(
                            id_number=(raw.get("id_number") or "").strip(),
                            month=(raw.get("month") or "").strip(),
                            base=(raw.get("base") or "").strip(),
                            employer_amount=(raw.get("employer_amount") or "").strip(),
                            personal_amount=(raw.get("personal_amount") or "").strip(),
                        ),
                    )
                )
    except UnicodeDecodeError:
        fail(f"{path}: 文件不是 UTF-8 编码")
    except csv.Error as exc:
        fail(f"{path}: CSV 格式有误: {exc}")
    return rows


@contributions_app.command("import")
def import_file(
    path: Path = typer.Argument(..., help="UTF-8 CSV: " + ",".join(HEADER)),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Load contributions and credit each account; all or nothing; safe to run twice."""
    rows = _read(path)

    async def _work(runtime: Runtime, session: AsyncSession) -> contributions.ImportReport:
        with Progress(console=console, transient=True, disable=as_json) as progress:
            task = progress.add_task("入账", total=len(rows))
            return await contributions.import_contributions(
                session,
                runtime.cipher,
                runtime.clock,
                rows,
                progress=lambda n: progress.advance(task, n),
            )

    report = run_in_session(_work)
    if report.errors:
        for line, message in report.errors:
            console.print(f"{path}:{line}: {message}", highlight=False, soft_wrap=True)
        fail(f"{len(report.errors)} 行有误，未导入任何记录")
    if as_json:
        print_json(
            {
                "loaded": report.loaded,
                "unchanged": report.unchanged,
                "credited": format_yuan(report.credited_fen),
            }
        )
    else:
        console.print(
            f"已入账 {report.loaded} 条，已存在未变 {report.unchanged} 条，"
            f"划入个人账户共 {format_yuan(report.credited_fen)} 元"
        )
