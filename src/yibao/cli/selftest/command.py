"""`yibao fsi selftest --tier pharmacy|clinic`: the acceptance suite from the command line."""

from __future__ import annotations

import typer
from rich.table import Table

from yibao.cli.context import console, fail
from yibao.cli.demo import DEMO_ID_NUMBER
from yibao.cli.demo_settlement import demo_token
from yibao.cli.fsi_client import FsiClient, fsi_app
from yibao.cli.selftest import Report, run_suite
from yibao.cli.selftest.registry import TIERS, Run, Tier

# The demo world's institutions (docs/demo.md): a pharmacy and a hospital of 上海市徐汇区.
DEMO_CODES: dict[Tier, str] = {"pharmacy": "P31010400101", "clinic": "H31010400012"}
STATUS = {"pass": "[green]通过[/]", "fail": "[bold red]失败[/]", "skip": "[yellow]跳过[/]"}


@fsi_app.command("selftest")
def selftest(
    tier: str = typer.Option(..., help="pharmacy (药店) or clinic (诊所)"),
    base: str = typer.Option("http://127.0.0.1:8000", envvar="YIBAO_FSI_URL", help="yibao's URL"),
    paasid: str = typer.Option(
        "", envvar="YIBAO_FSI_CODE", help="fixmedins_code (default: the tier's demo institution)"
    ),
    token: str = typer.Option(
        "", envvar="YIBAO_FSI_TOKEN", help="paasToken (default: the demo institution's)"
    ),
    region: str = typer.Option("310000", help="mdtrtarea_admvs"),
    cert_no: str = typer.Option(DEMO_ID_NUMBER, help="the patient's ID number (default: 李明)"),
    item: list[str] = typer.Option(
        [], help="a catalogue code for the bills (repeat); default: demo catalogue drugs"
    ),
) -> None:
    """Run the tier's 必验 transactions that yibao answers, in an institution's order, against a
    running yibao; print a pass/fail table and what is still missing. Exit 1 if a step fails."""
    if tier not in TIERS:
        fail(f"--tier 应为 {' 或 '.join(TIERS)}，收到 {tier!r}")
    chosen: Tier = "pharmacy" if tier == "pharmacy" else "clinic"
    code = (paasid or DEMO_CODES[chosen]).upper()
    if chosen == "pharmacy" and not code.startswith("P"):
        fail(f"--tier pharmacy 需要药店的机构编码（P 开头），收到 {code}")
    if chosen == "clinic" and not code.startswith("H"):
        fail(f"--tier clinic 需要医疗机构的机构编码（H 开头），收到 {code}")
    client = FsiClient(url=base, code=code, token=token or demo_token(code), region=region)
    report = run_suite(Run(client, chosen, cert_no.strip().upper(), tuple(item)))
    show(report)
    if report.failed:
        raise typer.Exit(code=1)


def show(report: Report) -> None:
    table = Table(title=f"yibao fsi selftest --tier {report.tier}")
    for column in ("infno", "交易", "结果", "说明"):
        table.add_column(column)
    for outcome in report.outcomes:
        table.add_row(outcome.step.infno, outcome.step.name, STATUS[outcome.status], outcome.detail)
    console.print(table)
    passed = sum(o.status == "pass" for o in report.outcomes)
    console.print(f"步骤：{passed}/{len(report.outcomes)} 通过", highlight=False)
    console.print(
        f"必验交易（{report.tier}）：{len(report.listed)} 项，已通过 {len(report.answered)} 项，"
        f"尚未实现 {len(report.missing)} 项",
        highlight=False,
    )
    if report.missing:
        console.print(
            "尚未实现：" + "、".join(f"{t.infno} {t.name}" for t in report.missing),
            highlight=False,
            soft_wrap=True,
        )
