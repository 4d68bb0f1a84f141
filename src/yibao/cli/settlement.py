"""institutions and catalogue: the operators' commands for designated institutions and 医保目录."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.cli.context import console, fail, print_json, run_in_session
from yibao.runtime import Runtime
from yibao.settlement import service
from yibao.settlement.domain import INSTITUTION_TYPE_NAMES
from yibao.settlement.tables import Institution

institutions_app = typer.Typer(
    help="定点医药机构: add, list, suspend, rotate-token", no_args_is_help=True
)

CATALOGUE_COLUMNS = [
    "med_list_codg",
    "name",
    "list_type",
    "chrgitm_lv",
    "selfpay_share",
    "price_cap",
    "spec",
    "begin_date",
    "end_date",
]


def describe(institution: Institution) -> dict[str, Any]:
    return {
        "fixmedins_code": institution.fixmedins_code,
        "name": institution.name,
        "type": institution.kind,
        "type_name": INSTITUTION_TYPE_NAMES[institution.kind],
        "region": institution.admdvs,
        "level": institution.level,
        "status": institution.status,
        "paasid": institution.paasid,
    }


def _show_credentials(credentials: Any, as_json: bool, verb: str) -> None:
    result = {**describe(credentials.institution), "token": credentials.token}
    if as_json:
        print_json(result)
        return
    console.print(f"{verb}: {result['fixmedins_code']} {result['name']}")
    console.print(f"paasid: {result['paasid']}")
    console.print(f"token:  {result['token']}  （只显示这一次，请妥善保存）", highlight=False)


@institutions_app.command("add")
def add(
    code: str = typer.Argument(..., help="fixmedins_code, e.g. H31010400012"),
    name: str = typer.Argument(..., help="机构名称"),
    region: str = typer.Option(..., "--region", help="统筹区 admdvs, e.g. 310000"),
    level: str = typer.Option(None, "--level", help="等级, e.g. 三级甲等"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Add a designated hospital (H…) or pharmacy (P…); prints its paasid and token once."""

    async def _work(runtime: Runtime, session: AsyncSession) -> Any:
        return await service.add_institution(
            session,
            runtime.cipher,
            runtime.clock,
            service.NewInstitution(code, name, region, level=level),
        )

    _show_credentials(run_in_session(_work), as_json, "已添加")


@institutions_app.command("list")
def list_(
    region: str = typer.Option(None, "--region"),
    kind: str = typer.Option(None, "--type", help="H | P"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The designated institutions (never their tokens)."""

    async def _work(runtime: Runtime, session: AsyncSession) -> list[dict[str, Any]]:
        found = await service.list_institutions(session, admdvs=region, kind=kind)
        return [describe(i) for i in found]

    rows = run_in_session(_work)
    if as_json:
        print_json(rows)
        return
    table = Table("编码", "名称", "类型", "区划", "等级", "状态")
    for row in rows:
        table.add_row(
            row["fixmedins_code"],
            row["name"],
            row["type_name"],
            row["region"],
            row["level"] or "",
            "正常" if row["status"] == "active" else "暂停",
        )
    console.print(table)


@institutions_app.command("suspend")
def suspend(
    code: str = typer.Argument(...),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Suspend an institution: it can no longer settle (its sign-in ends)."""

    async def _work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        return describe(await service.suspend_institution(session, code, runtime.clock))

    result = run_in_session(_work)
    if as_json:
        print_json(result)
    else:
        console.print(f"已暂停: {result['fixmedins_code']} {result['name']}")


@institutions_app.command("rotate-token")
def rotate(
    code: str = typer.Argument(...),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Give an institution a new paasToken (shown once); the old one stops working at once."""

    async def _work(runtime: Runtime, session: AsyncSession) -> Any:
        return await service.rotate_token(session, runtime.cipher, code, runtime.clock)

    _show_credentials(run_in_session(_work), as_json, "已更换令牌")


def read_catalogue(path: Path) -> list[tuple[int, service.CatalogueRow]]:
    if not path.exists():
        fail(f"找不到文件 {path}")
    rows = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in CATALOGUE_COLUMNS[:4] if c not in (reader.fieldnames or [])]
            if missing:
                fail(
                    f"{path}: 表头缺少列 {', '.join(missing)}（应为 {','.join(CATALOGUE_COLUMNS)}）"
                )
            for line, raw in enumerate(reader, start=2):
                rows.append(
                    (line, service.CatalogueRow(**{c: raw.get(c) or "" for c in CATALOGUE_COLUMNS}))
                )
    except UnicodeDecodeError:
        fail(f"{path}: 文件不是 UTF-8 编码")
    return rows
