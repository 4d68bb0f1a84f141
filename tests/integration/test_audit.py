"""The audit trail on real databases: chain, append-only, tamper detection, archive, 查询记录."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from yibao.audit import repository as audit
from yibao.audit import service as audit_service
from yibao.audit.domain import GENESIS_HASH, NothingToArchive
from yibao.cli.main import app
from yibao.config import Settings
from yibao.kernel.clock import FixedClock
from yibao.runtime import Runtime, build_runtime

T = TypeVar("T")

runner = CliRunner()


async def _record(
    runtime: Runtime,
    *,
    at: datetime | None = None,
    person_id: int | None = 7,
    action: str = "person.lookup",
    actor_type: str = "staff",
    actor_name: str = "李建国",
    reason: str = "counter_visit",
) -> int:
    async with runtime.sessions() as s:
        row = await audit.record(
            s,
            actor_type=actor_type,
            actor_id=11,
            actor_name=actor_name,
            role="clerk" if actor_type == "staff" else "partner",
            office="徐汇区医保中心",
            action=action,
            subject_person_id=person_id,
            reason=reason,
            detail={"found_by": "id_number", "b": [1, 2], "a": "文本"},
            now=at or runtime.clock.now(),
        )
        await s.commit()
        return row.id


async def _tamper(runtime: Runtime, backend: str, sql: str, params: dict[str, object]) -> None:
    """Change the trail behind the application's back, as an intruder with DB access would."""
    async with runtime.engine.begin() as conn:
        if backend == "postgres":
            await conn.execute(text("ALTER TABLE audit_records DISABLE TRIGGER USER"))
        else:
            await conn.execute(text("DROP TRIGGER IF EXISTS audit_records_no_update"))
            await conn.execute(text("DROP TRIGGER IF EXISTS audit_records_no_delete"))
        await conn.execute(text(sql), params)
        if backend == "postgres":
            await conn.execute(text("ALTER TABLE audit_records ENABLE TRIGGER USER"))


async def test_records_chain_and_verify(runtime: Runtime) -> None:
    ids = [await _record(runtime) for _ in range(5)]
    async with runtime.sessions() as s:
        rows = await audit.records_between(s, None, None)
        result = await audit_service.verify_chain(s)
    assert [r.id for r in rows] == ids and [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))
    assert json.loads(rows[0].detail_json) == {"a": "文本", "b": [1, 2], "found_by": "id_number"}
    assert result.intact and result.checked == 5 and result.head_seq == 5


async def test_database_refuses_edits_and_deletes(runtime: Runtime) -> None:
    record_id = await _record(runtime)
    for statement in (
        "UPDATE audit_records SET reason = 'x' WHERE id = :id",
        "DELETE FROM audit_records WHERE id = :id",
    ):
        async with runtime.sessions() as s:
            with pytest.raises(DBAPIError, match="append-only"):
                await s.execute(text(statement), {"id": record_id})
    async with runtime.sessions() as s:
        assert await audit.count(s) == 1


def _with_runtime(settings: Settings, work: Callable[[Runtime], Awaitable[T]]) -> T:
    """CLI tests are synchronous (the command runs its own event loop); set up the world here."""

    async def _main() -> T:
        runtime = build_runtime(settings)
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    return asyncio.run(_main())


def test_verify_names_the_changed_row(backend: str, cli_env: Settings) -> None:
    async def _four(runtime: Runtime) -> list[int]:
        return [await _record(runtime) for _ in range(4)]

    ids = _with_runtime(cli_env, _four)
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "已核对 4 条" in result.output

    _with_runtime(
        cli_env,
        lambda rt: _tamper(
            rt,
            backend,
            "UPDATE audit_records SET reason = 'hotline_call' WHERE id = :id",
            {"id": ids[2]},
        ),
    )
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 2
    assert f"id={ids[2]}" in result.output and "被修改" in result.output
    result = runner.invoke(app, ["audit", "verify", "--json"])
    assert result.exit_code == 2
    assert json.loads(result.output)["first_break"]["id"] == ids[2]


async def test_verify_detects_deleted_rows(runtime: Runtime, backend: str) -> None:
    ids = [await _record(runtime) for _ in range(4)]
    await _tamper(runtime, backend, "DELETE FROM audit_records WHERE id = :id", {"id": ids[1]})
    async with runtime.sessions() as s:
        broken = (await audit_service.verify_chain(s)).first_break
    assert broken is not None and broken.record_id == ids[2] and broken.seq == 3
    await _tamper(runtime, backend, "DELETE FROM audit_records WHERE id >= :id", {"id": ids[2]})
    async with runtime.sessions() as s:
        tail = (await audit_service.verify_chain(s)).first_break
    # Removing the tail leaves a chain that is consistent in itself; the head still knows.
    assert tail is not None and tail.record_id is None and "链头" in tail.problem


async def test_concurrent_writers_never_fork_the_chain(runtime: Runtime, backend: str) -> None:
    if backend != "postgres":
        pytest.skip("many connections at once: the PostgreSQL case")
    await asyncio.gather(*(_record(runtime, person_id=i) for i in range(40)))
    async with runtime.sessions() as s:
        rows = await audit.records_between(s, None, None)
        result = await audit_service.verify_chain(s)
    assert sorted(r.seq for r in rows) == list(range(1, 41))
    assert result.intact and result.checked == 40


async def test_archive_keeps_the_chain_verifiable(runtime: Runtime, tmp_path: Path) -> None:
    now = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    for days in (400, 300, 200, 100, 1):
        await _record(runtime, at=now - timedelta(days=days))
    clock = FixedClock(now)
    async with runtime.sessions() as s:
        report = await audit_service.archive_expired(
            s, clock, retention_days=186, directory=tmp_path / "archive"
        )
    assert (report.from_seq, report.through_seq, report.record_count) == (1, 3, 3)
    lines = report.path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2, 3]
    async with runtime.sessions() as s:
        assert [r.seq for r in await audit.records_between(s, None, None)] == [4, 5]
        result = await audit_service.verify_chain(s)
    assert result.intact and result.anchor_seq == 3 and result.checked == 2
    # Records inside the retention period still cannot be deleted.
    async with runtime.sessions() as s:
        with pytest.raises(DBAPIError, match="append-only"):
            await s.execute(text("DELETE FROM audit_records WHERE seq = 4"))
    async with runtime.sessions() as s:
        with pytest.raises(NothingToArchive):
            await audit_service.archive_expired(
                s, clock, retention_days=186, directory=tmp_path / "archive"
            )
    await _record(runtime)
    async with runtime.sessions() as s:
        assert (await audit_service.verify_chain(s)).checked == 3


def test_export_json_and_csv(cli_env: Settings, tmp_path: Path) -> None:
    async def _three(runtime: Runtime) -> None:
        await _record(runtime, at=datetime(2026, 3, 1, 15, 59, tzinfo=UTC))  # 3-01 23:59 Beijing
        await _record(runtime, at=datetime(2026, 3, 1, 16, 1, tzinfo=UTC))  # 3-02 00:01 Beijing
        await _record(runtime, at=datetime(2026, 3, 5, 1, 0, tzinfo=UTC))

    _with_runtime(cli_env, _three)
    result = runner.invoke(
        app, ["audit", "export", "--since", "2026-03-02", "--until", "2026-03-05"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["seq"] for r in rows] == [2, 3] and rows[0]["detail"]["a"] == "文本"
    out = tmp_path / "audit.csv"
    result = runner.invoke(
        app,
        [
            "audit",
            "export",
            "--since",
            "2026-03-01",
            "--until",
            "2026-03-01",
            "--csv",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    parsed = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["seq"] for r in parsed] == ["1"] and parsed[0]["office"] == "徐汇区医保中心"
    result = runner.invoke(app, ["audit", "export", "--since", "2026-13-01"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output


async def test_lookups_show_reads_of_my_data_with_staff_masked(runtime: Runtime) -> None:
    await _record(runtime, person_id=7, action="person.lookup", reason="counter_visit")
    await _record(runtime, person_id=7, action="claim.approve")  # an action, not a read
    await _record(runtime, person_id=8, action="person.lookup")  # someone else
    await _record(
        runtime,
        person_id=7,
        action="partner.read",
        actor_type="partner",
        actor_name="某某健康科技有限公司",
        reason="授权查询余额",
    )
    async with runtime.sessions() as s:
        lines = await audit_service.lookups_for_person(s, 7)
        other = await audit.lookup_of(s, 8, lines[0].record_id)
    assert [(line.who, line.action_name, line.reason) for line in lines] == [
        ("某某健康科技有限公司", "合作机构查询", "授权查询余额"),
        ("李**", "查询参保人", "窗口办理"),
    ]
    assert lines[1].office == "徐汇区医保中心" and lines[1].role_name == "经办人员"
    assert other is None


def test_archive_command_explains_when_nothing_is_old_enough(cli_env: Settings) -> None:
    _with_runtime(cli_env, lambda rt: _record(rt))
    result = runner.invoke(app, ["audit", "archive"])
    assert result.exit_code == 2 and "没有早于" in result.output
