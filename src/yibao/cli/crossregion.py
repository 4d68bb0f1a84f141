"""crossregion …: 异地就医 between deployments — keys, the region directory, a home region's rule
without 备案, the daily reconciliation (对账) and the monthly clearing statement (清算)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.cli.context import console, fail, print_json, run, run_in_session
from yibao.crossregion import service as crossregion
from yibao.crossregion.domain import Peer, UnfiledRule
from yibao.crossregion.signing import new_seed, public_key_of
from yibao.kernel.clock import china_today
from yibao.kernel.money import format_yuan
from yibao.runtime import Runtime

crossregion_app = typer.Typer(
    help="异地就医 between deployments: keygen, public-key, directory, rule, reconcile, clearing",
    no_args_is_help=True,
)


@crossregion_app.command("keygen")
def keygen() -> None:
    """A new Ed25519 key: set the seed as YIBAO_PEER_KEY here, give the public key to the
    other deployments' directory files. To roll a key without a flag day: publish the new one
    as `next_public_key` of this deployment's rows everywhere, then switch YIBAO_PEER_KEY and
    restart, then publish it as `public_key` without `next_public_key`."""
    seed = new_seed()
    console.print(f"YIBAO_PEER_KEY={seed}", highlight=False)
    console.print(f"public_key: {public_key_of(seed)}", highlight=False)


@crossregion_app.command("public-key")
def public_key() -> None:
    """This deployment's name and public key, for the other deployments' directory files."""

    async def _work(runtime: Runtime) -> tuple[str, str]:
        signer = crossregion.signer_of(runtime)
        return signer.deployment, signer.public_key

    name, key = run(_work)
    print_json({"deployment": name, "public_key": key})


@crossregion_app.command("directory")
def directory(
    load: Path | None = typer.Option(None, "--load", help="区划目录 JSON file to load"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Show the directory of regions, after loading `--load FILE` if given (docs/cross-region.md)."""
    text = load.read_text(encoding="utf-8") if load else None

    async def _work(runtime: Runtime, session: AsyncSession) -> list[Peer]:
        if text is not None:
            await crossregion.load_directory(session, runtime, text)
        return await crossregion.directory(session)

    peers = run_in_session(_work)
    rows = [
        {
            "admdvs": p.admdvs,
            "region_name": p.region_name,
            "deployment": p.deployment,
            "base_url": p.base_url,
            "local": p.local,
            "when_unreachable": p.when_unreachable.value,
        }
        for p in peers
    ]
    if as_json:
        print_json(rows)
        return
    for r in rows:
        where = "本部署" if r["local"] else r["base_url"]
        down = "平台无法连接时全额自付" if r["when_unreachable"] == "cash" else "平台无法连接时拒绝"
        console.print(
            f"{r['admdvs']} {r['region_name']}  {r['deployment']}  {where}  {down}",
            highlight=False,
        )


@crossregion_app.command("rule")
def rule(
    admdvs: str = typer.Argument(..., help="参保地区划, e.g. 440300"),
    unfiled: UnfiledRule = typer.Option(..., "--unfiled", help="refuse | lower_ratio"),
    cut_bp: int = typer.Option(1000, "--cut-bp", help="lower_ratio: 统筹支付比例降低的万分点"),
) -> None:
    """A home region's rule for treatment elsewhere without 备案."""
    if not 0 <= cut_bp <= 10000:
        fail("--cut-bp 应在 0 到 10000 之间")

    async def _work(runtime: Runtime, session: AsyncSession) -> None:
        await crossregion.set_home_rule(session, admdvs, unfiled, cut_bp)

    run_in_session(_work)
    console.print(f"{admdvs}: 未备案异地就医 {unfiled.value} ({cut_bp} bp)")


@crossregion_app.command("reconcile")
def reconcile(
    treatment: str = typer.Option(..., "--admdvs", help="本部署的就医地区划, e.g. 310000"),
    day: str | None = typer.Option(None, "--day", help="yyyy-MM-dd (default: yesterday)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """对账: send each home region the day's settlements; it reverses what we never recorded."""

    async def _work(runtime: Runtime) -> list[crossregion.Reconciled]:
        chosen = date.fromisoformat(day) if day else china_today(runtime.clock) - timedelta(1)
        return await crossregion.reconcile(runtime, crossregion.link_of(runtime), treatment, chosen)

    try:
        done = run(_work)
    except ValueError:
        fail("--day 应为 yyyy-MM-dd")
    rows = [
        {
            "home_admdvs": r.home.admdvs,
            "day": r.day.isoformat(),
            "sent": r.sent,
            "differences": r.differences,
        }
        for r in done
    ]
    if as_json:
        print_json(rows)
        return
    for r in done:
        console.print(
            f"{r.day} 参保地 {r.home.admdvs}: 本地结算 {r.sent} 笔，差异 {len(r.differences)} 笔",
            highlight=False,
        )
        for d in r.differences:
            console.print(f"  {d['message_id']}: {d['action']}", highlight=False)


@crossregion_app.command("clearing")
def clearing(
    treatment: str = typer.Option(..., "--admdvs", help="本部署的就医地区划"),
    home: str = typer.Option(..., "--home", help="参保地区划"),
    month: str = typer.Option(..., "--month", help="yyyy-MM"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """清算: the month's statement for a pair of regions, added up here and at the home region;
    exit code 1 when the two sides differ."""

    async def _work(runtime: Runtime) -> crossregion.Clearing:
        return await crossregion.clearing(
            runtime, crossregion.link_of(runtime), treatment, home, month
        )

    statement = run(_work)
    data = {
        "treatment": statement.here.as_dict(),
        "home": statement.there.as_dict(),
        "agrees": statement.agrees,
    }
    if as_json:
        print_json(data)
    else:
        for side, t in (("就医地", statement.here), ("参保地", statement.there)):
            console.print(
                f"{side}: {t.count} 笔  医疗费 {format_yuan(t.medfee_sumamt_fen)}  统筹 "
                f"{format_yuan(t.fund_pay_fen)}  个账 {format_yuan(t.acct_pay_fen)}  现金 "
                f"{format_yuan(t.cash_pay_fen)}",
                highlight=False,
            )
        console.print("双方一致" if statement.agrees else "双方不一致", highlight=False)
    if not statement.agrees:
        raise typer.Exit(code=1)


@crossregion_app.command("demo-filing")
def demo_filing(
    to: str = typer.Option(..., "--to", help="就医地区划, e.g. 440300"),
    to_name: str = typer.Option(..., "--to-name", help="就医地名称, e.g. 深圳市"),
) -> None:
    """Demo data: file the demo person's 异地长期居住 备案 to another region (scripts/run-two)."""
    from yibao.cli.demo import DEMO_ID_NUMBER, DEMO_NAME
    from yibao.enrolment import repository as enrolment_repository
    from yibao.filings import service as filings
    from yibao.filings.domain import DocumentKind, FilingKind

    async def _work(runtime: Runtime, session: AsyncSession) -> str:
        person = await enrolment_repository.person_by_id_number(
            session, runtime.cipher, DEMO_ID_NUMBER
        )
        if person is None:
            fail("没有演示参保人：先运行 yibao demo")
        if await filings.filings_of(session, person.id):
            return "演示参保人已有备案"
        await filings.file(
            session,
            runtime.clock,
            filings.person_actor(person.id, DEMO_NAME),
            person.id,
            filings.Application(
                kind=FilingKind.LONG_TERM_RESIDENT,
                treatment_admdvs=to,
                treatment_name=to_name,
                begins=china_today(runtime.clock),
                document_kind=DocumentKind.DECLARATION,
                document_note=f"演示：长期居住在{to_name}",
            ),
        )
        return f"已为演示参保人 {DEMO_NAME} 办理到 {to_name}（{to}）的异地长期居住备案"

    console.print(run_in_session(_work), highlight=False)
