"""persons and regions: the operators' enrolment commands."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.cli.context import console, fail, print_json, run_in_session
from yibao.enrolment import repository as enrolment_repository
from yibao.enrolment import service as enrolment
from yibao.enrolment.domain import ENROLMENT_STATUS_NAMES, INSUTYPE_NAMES, PSN_TYPE_NAMES
from yibao.enrolment.tables import Person
from yibao.kernel.money import format_yuan
from yibao.ledger import repository as ledger_repository
from yibao.runtime import Runtime

persons_app = typer.Typer(help="参保人: add, import, show", no_args_is_help=True)
regions_app = typer.Typer(help="统筹区 and their local rules", no_args_is_help=True)

PERSON_COLUMNS = ["name", "id_number", "phone", "region", "insutype", "psn_type", "employer"]


async def _describe(runtime: Runtime, session: AsyncSession, person: Person) -> dict[str, Any]:
    enrolments = await enrolment_repository.enrolments_of(session, person.id)
    account = await ledger_repository.account_for_person(session, person.id)
    return {
        "psn_no": person.psn_no,
        "name": person.name,
        "id_number": person.id_number_masked,
        "gender": "男" if person.gender == "1" else "女",
        "birth_date": person.birth_date.isoformat(),
        "phone": person.phone_masked,
        "card_no": person.card_no,
        "enrolments": [
            {
                "insutype": e.insutype,
                "insutype_name": INSUTYPE_NAMES.get(e.insutype, e.insutype),
                "psn_type": e.psn_type,
                "psn_type_name": PSN_TYPE_NAMES.get(e.psn_type, e.psn_type),
                "psn_insu_stas": e.status,
                "status_name": ENROLMENT_STATUS_NAMES.get(e.status, e.status),
                "insuplc_admdvs": e.admdvs,
                "begin_date": e.begin_date.isoformat(),
            }
            for e in enrolments
        ],
        "account": None
        if account is None
        else {
            "balance": format_yuan(account.balance_fen),
            "status": account.status,
            "frozen_reason": account.frozen_reason,
        },
    }


@persons_app.command("add")
def add(
    name: str = typer.Option(..., help="姓名"),
    id_number: str = typer.Option(..., "--id-number", help="公民身份号码 (18)"),
    phone: str = typer.Option(..., help="手机号码"),
    region: str = typer.Option(..., help="参保地医保区划 (admdvs)"),
    insutype: str = typer.Option(..., help="310 职工 | 390 居民"),
    psn_type: str = typer.Option(..., "--psn-type", help="1101 | 1201 | 1300 | 1501"),
    employer: str = typer.Option(None, help="单位名称 (in-service employees)"),
    card_no: str = typer.Option(None, "--card-no", help="社会保障卡号"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Enrol one insured person; employees (310) get a personal account."""
    new = enrolment.NewPerson(
        name=name,
        id_number=id_number,
        phone=phone,
        admdvs=region,
        insutype=insutype,
        psn_type=psn_type,
        employer=employer,
        card_no=card_no,
    )

    async def _work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        enrolled = await enrolment.enrol_person(session, runtime.cipher, runtime.clock, new)
        return await _describe(runtime, session, enrolled.person)

    result = run_in_session(_work)
    if as_json:
        print_json(result)
    else:
        console.print(f"已参保: {result['name']} psn_no={result['psn_no']}")


def _read_persons_csv(path: Path) -> list[tuple[int, enrolment.NewPerson]]:
    if not path.exists():
        fail(f"找不到文件 {path}")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in PERSON_COLUMNS[:-1] if c not in (reader.fieldnames or [])]
            if missing:
                fail(f"{path}: 表头缺少列 {', '.join(missing)}（应为 {','.join(PERSON_COLUMNS)}）")
            rows = []
            for line, raw in enumerate(reader, start=2):
                rows.append(
                    (
                        line,
                        enrolment.NewPerson(
                            name=raw.get("name") or "",
                            id_number=raw.get("id_number") or "",
                            phone=raw.get("phone") or None,
                            admdvs=raw.get("region") or "",
                            insutype=raw.get("insutype") or "",
                            psn_type=raw.get("psn_type") or "",
                            employer=raw.get("employer") or None,
                            card_no=raw.get("card_no") or None,
                        ),
                    )
                )
    except UnicodeDecodeError:
        fail(f"{path}: 文件不是 UTF-8 编码")
    return rows


@persons_app.command("import")
def import_persons(
    path: Path = typer.Argument(..., help="UTF-8 CSV: " + ",".join(PERSON_COLUMNS)),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Enrol every person of a CSV file, or none if any row is bad."""
    rows = _read_persons_csv(path)

    async def _work(
        runtime: Runtime, session: AsyncSession
    ) -> tuple[list[str], list[tuple[int, str]]]:
        done, errors = await enrolment.enrol_many(session, runtime.cipher, runtime.clock, rows)
        return [d.person.psn_no for d in done], errors

    psn_nos, errors = run_in_session(_work)
    if errors:
        for line, message in errors:
            console.print(f"{path}:{line}: {message}", highlight=False, soft_wrap=True)
        fail(f"{len(errors)} 行有误，未导入任何记录")
    if as_json:
        print_json({"imported": len(psn_nos), "psn_nos": psn_nos})
    else:
        console.print(f"已导入 {len(psn_nos)} 名参保人")


@persons_app.command("show")
def show(
    key: str = typer.Argument(..., help="ID number or psn_no"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """One person's enrolment and account (ID number and phone masked)."""

    async def _work(runtime: Runtime, session: AsyncSession) -> dict[str, Any]:
        person = await enrolment.find_person(session, runtime.cipher, key)
        return await _describe(runtime, session, person)

    result = run_in_session(_work)
    if as_json:
        print_json(result)
        return
    console.print(f"[bold]{result['name']}[/]  psn_no {result['psn_no']}")
    console.print(
        f"身份证 {result['id_number']}  手机 {result['phone']}  出生 {result['birth_date']}"
    )
    for e in result["enrolments"]:
        console.print(
            f"{e['insutype_name']} · {e['psn_type_name']} · {e['status_name']} · {e['insuplc_admdvs']}"
        )
    if result["account"]:
        console.print(
            f"个人账户余额 {result['account']['balance']} 元 ({result['account']['status']})"
        )


@regions_app.command("list")
def list_regions(as_json: bool = typer.Option(False, "--json")) -> None:
    """Regions and their local rules."""

    async def _work(runtime: Runtime, session: AsyncSession) -> list[dict[str, Any]]:
        return [
            {
                "admdvs": r.admdvs,
                "name": r.name,
                "account_credit_rate_bp": r.account_credit_rate_bp,
                "retiree_monthly_credit": format_yuan(r.retiree_monthly_credit_fen),
                "deductible": format_yuan(r.deductible_fen),
                "fund_ratio_bp": r.fund_ratio_bp,
                "retiree_fund_ratio_bp": r.retiree_fund_ratio_bp,
                "yearly_cap": format_yuan(r.yearly_cap_fen),
                "class_b_selfpay_bp": r.class_b_selfpay_bp,
                "near_relatives_allowed": r.near_relatives_allowed,
                "mutual_aid_scope": r.mutual_aid_scope,
                "resident_contribution": format_yuan(r.resident_contribution_fen),
            }
            for r in await enrolment.list_regions(session)
        ]

    regions = run_in_session(_work)
    if as_json:
        print_json(regions)
        return
    table = Table(
        "admdvs", "名称", "划入比例", "退休划入/月", "起付线", "统筹比例", "封顶线", "近亲属共济"
    )
    for r in regions:
        table.add_row(
            r["admdvs"],
            r["name"],
            f"{r['account_credit_rate_bp'] / 100:g}%",
            r["retiree_monthly_credit"],
            r["deductible"],
            f"{r['fund_ratio_bp'] / 100:g}%",
            r["yearly_cap"],
            "是" if r["near_relatives_allowed"] else "否",
        )
    console.print(table)
