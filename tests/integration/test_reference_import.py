"""Catalogue imports: all or nothing, each problem named by line and column; versions grow only
when something changed. Files: readable by their institution until they expire, and unchanged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.files import service as files
from yibao.files.domain import FileDamaged, FileExpired, UnknownFile
from yibao.files.tables import ExchangeFile
from yibao.kernel.clock import FixedClock
from yibao.reference import service
from yibao.reference.domain import kind_named
from yibao.reference.tables import ReferenceRecord
from yibao.runtime import Runtime


async def _import(
    runtime: Runtime, session: AsyncSession, kind: str, rows: list[dict[str, str]]
) -> service.ImportReport:
    return await service.import_records(
        session,
        runtime.clock,
        runtime.cipher,
        kind_named(kind),
        list(rows[0]),
        [(n, row) for n, row in enumerate(rows, start=2)],
    )


async def test_one_bad_line_and_nothing_is_written(runtime: Runtime, session: AsyncSession) -> None:
    rows = [
        {"opsp_dise_code": "M03900", "opsp_dise_name": "高血压", "vali_flag": "1"},
        {"opsp_dise_code": "M 01", "opsp_dise_name": "糖尿病", "vali_flag": "1"},
        {"opsp_dise_code": "M01600", "opsp_dise_name": "", "vali_flag": "2"},
        {"opsp_dise_code": "M03900", "opsp_dise_name": "高血压病", "vali_flag": "1"},
    ]
    report = await _import(runtime, session, "1309", rows)
    assert [str(p) for p in report.problems] == [
        "第3行 opsp_dise_code 列: 编码应为1到50位半角字母、数字或符号（不含空格）",
        "第4行 opsp_dise_name 列: 必填，不能为空",
        "第4行 vali_flag 列: 有效标志应为 1（有效）或 0（无效）",
        "第5行 opsp_dise_code 列: 与第2行是同一条记录（opsp_dise_code 相同）",
    ]
    assert report.version is None
    count = await session.execute(select(func.count(ReferenceRecord.id)))
    assert count.scalar_one() == 0


async def test_an_unknown_or_missing_column_is_named(
    runtime: Runtime, session: AsyncSession
) -> None:
    report = await _import(runtime, session, "chronic", [{"opsp_dise_cod": "M03900"}])
    assert [str(p) for p in report.problems] == [
        "第1行 opsp_dise_cod 列: 不是门诊慢特病种目录（1309）的字段",
        "第1行 opsp_dise_code 列: 表头缺少必填列",
        "第1行 opsp_dise_name 列: 表头缺少必填列",
    ]


async def test_versions_grow_only_when_something_changed(
    runtime: Runtime, session: AsyncSession
) -> None:
    rows = [{"opsp_dise_code": "M03900", "opsp_dise_name": "高血压"}]
    first = await _import(runtime, session, "1309", rows)
    assert (first.added, first.version is not None) == (1, True)
    same = await _import(runtime, session, "1309", rows)
    assert (same.unchanged, same.version) == (1, None)
    changed = await _import(runtime, session, "1309", [{**rows[0], "opsp_dise_name": "高血压病"}])
    assert changed.changed == 1
    assert changed.version is not None and first.version is not None
    assert changed.version > first.version


async def test_a_file_expires_and_is_checked_before_it_is_handed_out(
    runtime: Runtime, session: AsyncSession
) -> None:
    clock = FixedClock(runtime.clock.now())
    stored = await files.upload(
        session,
        clock,
        fixmedins_code="P44030500631",
        filename="a.txt",
        raw_content="aGVsbG8=",
        max_bytes=1024,
        ttl_hours=24,
        where="input.fsUploadIn",
    )
    await session.commit()
    got = await files.fetch(
        session, clock, fixmedins_code="P44030500631", file_qury_no=stored.file_qury_no
    )
    assert got.content == b"hello"
    with pytest.raises(UnknownFile):
        await files.fetch(
            session, clock, fixmedins_code="H44030500012", file_qury_no=stored.file_qury_no
        )
    row = (await session.execute(select(ExchangeFile))).scalar_one()
    row.content = b"hellO"
    await session.commit()
    with pytest.raises(FileDamaged):
        await files.fetch(
            session, clock, fixmedins_code="P44030500631", file_qury_no=stored.file_qury_no
        )
    clock.advance(timedelta(hours=24))
    with pytest.raises(FileExpired):
        await files.fetch(
            session, clock, fixmedins_code="P44030500631", file_qury_no=stored.file_qury_no
        )
