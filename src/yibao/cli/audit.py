"""yibao audit: verify the hash chain, export a period, archive what retention lets go."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.audit import service as audit
from yibao.cli.context import console, err_console, fail, print_json, run_in_session
from yibao.kernel.clock import CHINA_TZ
from yibao.runtime import Runtime

audit_app = typer.Typer(help="审计日志: verify, export, archive", no_args_is_help=True)

EXPORT_COLUMNS = [
    "seq",
    "occurred_at",
    "actor_type",
    "actor_id",
    "actor_name",
    "role",
    "office",
    "action",
    "subject_person_id",
    "reason",
    "detail",
    "prev_hash",
    "hash",
]


@audit_app.command("verify")
def verify(as_json: bool = typer.Option(False, "--json")) -> None:
    """Recompute the hash chain; exit 2 naming the first broken record."""

    async def _work(runtime: Runtime, session: AsyncSession) -> audit.Verification:
        return await audit.verify_chain(session)

    result = run_in_session(_work)
    broken = result.first_break
    if as_json:
        print_json(
            {
                "intact": result.intact,
                "checked": result.checked,
                "head_seq": result.head_seq,
                "anchor_seq": result.anchor_seq,
                "first_break": None
                if broken is None
                else {"id": broken.record_id, "seq": broken.seq, "problem": broken.problem},
            }
        )
        if broken is not None:
            raise typer.Exit(code=2)
        return
    if broken is None:
        console.print(f"审计链完整：已核对 {result.checked} 条记录（链头第 {result.head_seq} 条）")
        return
    where = (
        f"记录 id={broken.record_id} (第 {broken.seq} 条)"
        if broken.record_id
        else f"第 {broken.seq} 条"
    )
    fail(f"审计链断开于{where}：{broken.problem}")


def _day(raw: str | None, option: str) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        fail(f"{option} 应为日期 YYYY-MM-DD，收到 {raw!r}")


def _csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "detail": json.dumps(row["detail"], ensure_ascii=False)})
    return buffer.getvalue()


@audit_app.command("export")
def export(
    since: str = typer.Option(None, "--since", help="First day (Beijing time), YYYY-MM-DD"),
    until: str = typer.Option(None, "--until", help="Last day, inclusive, YYYY-MM-DD"),
    as_csv: bool = typer.Option(False, "--csv", help="CSV instead of JSON"),
    as_json: bool = typer.Option(False, "--json", help="JSON (the default)"),
    output: Path = typer.Option(None, "--output", "-o", help="Write to a file, not stdout"),
) -> None:
    """Every audit record of a period, with its hashes, as JSON or CSV."""
    if as_csv and as_json:
        fail("--csv 与 --json 只能选一个")
    first, last = _day(since, "--since"), _day(until, "--until")
    if first and last and last < first:
        fail("--until 不能早于 --since")
    start = datetime.combine(first, time(), CHINA_TZ) if first else None
    end = datetime.combine(last + timedelta(days=1), time(), CHINA_TZ) if last else None

    async def _work(runtime: Runtime, session: AsyncSession) -> list[dict[str, Any]]:
        return await audit.export_records(session, start, end)

    rows = run_in_session(_work)
    text = _csv(rows) if as_csv else json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8")
    err_console.print(f"已导出 {len(rows)} 条审计记录到 {output}")


@audit_app.command("archive")
def archive(
    directory: Path = typer.Option(
        None, "--dir", help="Where archive files go (var/audit-archive)"
    ),
) -> None:
    """Move records older than the retention period (YIBAO_AUDIT_RETENTION_DAYS) to a file."""

    async def _work(runtime: Runtime, session: AsyncSession) -> audit.ArchiveReport:
        target = directory or runtime.settings.var_dir / "audit-archive"
        return await audit.archive_expired(
            session,
            runtime.clock,
            retention_days=runtime.settings.audit_retention_days,
            directory=target,
        )

    report = run_in_session(_work)
    console.print(
        f"已归档第 {report.from_seq}–{report.through_seq} 条（{report.record_count} 条）到 {report.path}"
    )
