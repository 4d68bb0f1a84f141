"""The reference part of `yibao demo`: small, realistic catalogues of every kind institutions
download or query (src/yibao/reference/demo/<kind>.csv), loaded as `yibao catalogue import`
loads them, and the demo institutions' catalogue mappings (1317)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from yibao.cli.catalogue import read_rows
from yibao.reference import service
from yibao.reference.domain import KINDS
from yibao.runtime import Runtime

DEMO_DIR = Path(__file__).parents[1] / "reference" / "demo"


async def load_reference(runtime: Runtime, session: AsyncSession) -> int:
    loaded = 0
    for kind in KINDS.values():
        path = DEMO_DIR / f"{kind.slug}.csv"
        header, rows, problems = read_rows(path.read_text(encoding="utf-8"))
        report = await service.import_records(
            session, runtime.clock, runtime.cipher, kind, header, rows
        )
        if problems or report.problems:
            raise AssertionError(f"{path}: {problems or [str(p) for p in report.problems]}")
        loaded += report.added
    return loaded
