"""users unlock, staff create, sms list: the operators' identity commands."""

from __future__ import annotations

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.cli.context import console, print_json, run_in_session
from yibao.identity import service as identity
from yibao.identity.service.staff import provisioning_uri
from yibao.kernel.clock import to_china
from yibao.notifications import repository as outbox
from yibao.notifications.domain import Channel
from yibao.notifications.service import text_to_send
from yibao.runtime import Runtime

users_app = typer.Typer(help="网上账户: unlock", no_args_is_help=True)
staff_app = typer.Typer(help="经办人员账号: create", no_args_is_help=True)
sms_app = typer.Typer(help="短信发件箱: list", no_args_is_help=True)


@users_app.command("unlock")
def unlock(
    identifier: str = typer.Argument(..., help="手机号、身份证号码或社保卡号"),
    by: str = typer.Option("cli", help="Who unlocks (recorded in the security events)"),
) -> None:
    """Unlock an online account locked by wrong passwords (customer service)."""

    async def _work(runtime: Runtime, session: AsyncSession) -> str:
        return await identity.unlock_account(runtime, session, identifier, by=by)

    masked = run_in_session(_work)
    console.print(f"已解锁网上账户（绑定手机 {masked}）")


@staff_app.command("create")
def create(
    username: str = typer.Argument(..., help="Sign-in name, e.g. zhang.wei"),
    name: str = typer.Option(..., "--name", help="姓名"),
    role: list[str] = typer.Option(..., "--role", help="clerk 经办 / reviewer 审核 / admin 管理"),
    password: str = typer.Option(
        ..., "--password", prompt=True, hide_input=True, confirmation_prompt=True
    ),
    office: str = typer.Option("医保经办大厅", "--office", help="经办机构"),
    totp_secret: str = typer.Option(
        "", "--totp-secret", help="Base32 secret to use (default: a new random one)"
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create a staff account; prints the TOTP secret for the authenticator app once."""

    async def _work(runtime: Runtime, session: AsyncSession) -> tuple[str, str, str]:
        member, secret = await identity.create_staff(
            runtime,
            session,
            username=username,
            name=name,
            password=password,
            roles=role,
            office=office,
            totp_secret=totp_secret or None,
        )
        return member.username, member.roles, secret

    created, roles, secret = run_in_session(_work)
    uri = provisioning_uri(created, secret)
    if as_json:
        print_json(
            {"username": created, "roles": roles.split(","), "totp_secret": secret, "totp_uri": uri}
        )
        return
    console.print(f"已创建经办账号 {created}（岗位 {roles}）")
    console.print(f"动态口令密钥（请导入身份验证器，仅显示一次）: {secret}")
    console.print(uri, highlight=False)


@sms_app.command("list")
def list_sms(
    limit: int = typer.Option(20, help="How many, newest first"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The SMS outbox: what was (or will be) sent, with masked phones. A code waiting to be
    delivered is shown only in development; a delivered one is gone from the outbox."""

    async def _work(runtime: Runtime, session: AsyncSession) -> list[dict[str, str]]:
        rows = await outbox.recent(session, channel=Channel.SMS, limit=limit)
        unseal = runtime.settings.is_development
        return [
            {
                "time": to_china(m.created_at).strftime("%Y-%m-%d %H:%M:%S"),
                "phone": m.phone_masked or "",
                "status": m.status,
                "text": text_to_send(runtime.cipher, m) if unseal else m.body,
            }
            for m in rows
        ]

    rows = run_in_session(_work)
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("发件箱中没有短信")
    for row in rows:
        console.print(
            f"{row['time']}  {row['phone']}  [{row['status']}]  {row['text']}", highlight=False
        )
