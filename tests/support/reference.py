"""Reference data for tests: load a kind from rows as `yibao catalogue import` would."""

from __future__ import annotations

import base64
import io
import zipfile
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.fsi import Institution
from yibao.reference import service
from yibao.reference.domain import kind_named
from yibao.runtime import Runtime


async def load(
    runtime: Runtime, session: AsyncSession, kind: str, rows: list[dict[str, str]]
) -> service.ImportReport:
    header = list(rows[0])
    report = await service.import_records(
        session,
        runtime.clock,
        runtime.cipher,
        kind_named(kind),
        header,
        [(line, row) for line, row in enumerate(rows, start=2)],
    )
    assert not report.problems, [str(p) for p in report.problems]
    return report


async def fetched_lines(institution: Institution, output: dict[str, Any]) -> list[list[str]]:
    """9102 the file a download answered; its text file's lines, split at TAB."""
    got = await institution.call(
        "9102",
        {
            "fsDownloadIn": {
                "file_qury_no": output["file_qury_no"],
                "filename": output["filename"],
                "fixmedins_code": "plc",
            }
        },
    )
    assert got["infcode"] == 0, got
    content = base64.b64decode(got["output"]["file"])
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        (name,) = archive.namelist()
        assert output["filename"] == f"{name}.zip"
        text = archive.read(name).decode("utf-8")
    return [line.split("\t") for line in text.splitlines()]
