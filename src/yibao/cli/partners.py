"""partners add/list/suspend/rotate: the operator's commands for partner apps (合作应用).

An operator at the command line acts alone: whoever can run it already holds the deployment's
database and keys, so a second person's approval would protect nothing. Staff at /staff register
partners under maker-checker instead. Every action is on the audit trail as the operator's.
"""

from __future__ import annotations

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.cli.context import console, print_json, run_in_session
from yibao.kernel.clock import to_china
from yibao.partners.domain import DEFAULT_RATE_LIMIT, PARTNER_STATUS_NAMES, SCOPES
from yibao.partners.service import registry
from yibao.partners.tables import Partner
from yibao.runtime import Runtime

partners_app = typer.Typer(
    help="合作应用 (open API): add, list, suspend, rotate", no_args_is_help=True
)


def _credentials_out(credentials: registry.Credentials, as_json: bool, verb: str) -> None:
    partner = credentials.partner
    if as_json:
        print_json({"client_id": partner.client_id, "client_secret": credentials.client_secret})
        return
    console.print(f"{verb}合作应用 {partner.name}（{partner.company}）")
    console.print(f"client_id     {partner.client_id}")
    console.print(f"client_secret {credentials.client_secret}")
    console.print("[yellow]密钥只显示这一次，请经安全渠道交给合作方。[/]")


@partners_app.command("add")
def add(
    name: str = typer.Option(..., "--name", help="应用名称, e.g. 支付宝"),
    company: str = typer.Option(..., "--company", help="所属公司"),
    redirect_uri: list[str] = typer.Option(..., "--redirect-uri", help="回调地址 (repeatable)"),
    scope: list[str] = typer.Option(
        list(SCOPES), "--scope", help=f"可申请的授权范围 (repeatable): {', '.join(SCOPES)}"
    ),
    rate_limit: int = typer.Option(DEFAULT_RATE_LIMIT, "--rate-limit", help="次/分钟"),
    public_keys: str = typer.Option("", "--public-keys", help="JWK Set (JSON), optional"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Register and enable a partner app at once; prints its client secret once."""

    async def _work(runtime: Runtime, session: AsyncSession) -> registry.Credentials:
        return await registry.add_partner(
            session,
            runtime.clock,
            registry.Registration(
                name=name,
                company=company,
                redirect_uris=redirect_uri,
                scopes=scope,
                rate_limit_per_minute=rate_limit,
                public_keys=public_keys or None,
            ),
        )

    _credentials_out(run_in_session(_work), as_json, "已添加")


def _row(p: Partner) -> dict[str, object]:
    return {
        "client_id": p.client_id,
        "name": p.name,
        "company": p.company,
        "status": p.status,
        "scopes": p.scopes.split(),
        "redirect_uris": registry.redirect_uris_of(p),
        "rate_limit_per_minute": p.rate_limit_per_minute,
        "proposed_by": p.proposed_by_name,
        "approved_by": p.decided_by_name,
    }


@partners_app.command("list")
def list_(
    status: str = typer.Option("", "--status", help="proposed | active | rejected | suspended"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Every partner app with its status (never a secret)."""

    async def _work(runtime: Runtime, session: AsyncSession) -> list[Partner]:
        return await registry.list_partners(session, status or None)

    found = run_in_session(_work)
    if as_json:
        print_json([_row(p) for p in found])
        return
    for p in found:
        console.print(
            f"{p.client_id}  {p.name}（{p.company}）  {PARTNER_STATUS_NAMES[p.status]}  "
            f"{p.scopes}  {p.rate_limit_per_minute}/min  {to_china(p.proposed_at):%Y-%m-%d}"
        )
    if not found:
        console.print("没有合作应用")


@partners_app.command("suspend")
def suspend(client_id: str = typer.Argument(..., help="client_id")) -> None:
    """Suspend a partner: every token it holds stops working at once."""

    async def _work(runtime: Runtime, session: AsyncSession) -> Partner:
        return await registry.suspend_partner(session, runtime.clock, client_id)

    partner = run_in_session(_work)
    console.print(f"已停用 {partner.name}：其全部令牌立即失效")


@partners_app.command("rotate")
def rotate(
    client_id: str = typer.Argument(..., help="client_id"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """A new client secret; the old one stops working at once."""

    async def _work(runtime: Runtime, session: AsyncSession) -> registry.Credentials:
        return await registry.rotate_secret(session, runtime.clock, client_id)

    _credentials_out(run_in_session(_work), as_json, "已更换密钥：")
