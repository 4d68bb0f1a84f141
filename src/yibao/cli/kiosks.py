"""kiosks add / list / revoke: the operator's commands for self-service kiosks (自助查询机)."""

from __future__ import annotations

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.cli.context import console, print_json, run_in_session
from yibao.kernel.clock import to_china
from yibao.kiosks.service import devices
from yibao.runtime import Runtime

kiosks_app = typer.Typer(help="自助查询机: add, list, revoke", no_args_is_help=True)


@kiosks_app.command("add")
def add(
    kiosk_id: str = typer.Argument(..., help="编号, e.g. HALL-01"),
    place: str = typer.Option(..., "--place", help="安放地点, e.g. 市一医院门诊大厅"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Register a kiosk; prints its key once (type it at the kiosk's /kiosk/setup and give it to
    the bridge)."""

    async def _work(runtime: Runtime, session: AsyncSession) -> devices.Registered:
        return await devices.register_kiosk(
            session, runtime.clock, None, kiosk_id=kiosk_id, place=place
        )

    made = run_in_session(_work)
    if as_json:
        print_json({"kiosk_id": made.kiosk_id, "place": made.place, "key": made.key})
        return
    console.print(f"已登记自助查询机 {made.kiosk_id}（{made.place}）")
    console.print(f"本机密钥（仅显示一次）: {made.key}", highlight=False)


@kiosks_app.command("list")
def list_kiosks(as_json: bool = typer.Option(False, "--json")) -> None:
    """Every kiosk: place, last contact, printer, today's sessions; stale ones flagged."""

    async def _work(runtime: Runtime, session: AsyncSession) -> list[devices.KioskStatus]:
        return await devices.kiosk_statuses(session, runtime.clock)

    rows = run_in_session(_work)
    shown = [
        {
            "kiosk_id": k.kiosk_id,
            "place": k.place,
            "status": "revoked" if k.revoked_at else ("stale" if k.stale else "ok"),
            "last_seen": to_china(k.last_seen_at).strftime("%Y-%m-%d %H:%M:%S")
            if k.last_seen_at
            else "",
            "printer": k.printer_problem or (k.printer_state or ""),
            "sessions_today": k.sessions_today,
        }
        for k in rows
    ]
    if as_json:
        print_json(shown)
        return
    if not shown:
        console.print("还没有登记自助查询机")
    for k in shown:
        console.print(
            f"{k['kiosk_id']}  {k['place']}  [{k['status']}]  最近联系 {k['last_seen'] or '从未'}"
            f"  打印机 {k['printer'] or '—'}  今日 {k['sessions_today']} 次",
            highlight=False,
        )


@kiosks_app.command("revoke")
def revoke(kiosk_id: str = typer.Argument(..., help="编号")) -> None:
    """Stop a kiosk at once: its key is refused from its next call, open sessions end."""

    async def _work(runtime: Runtime, session: AsyncSession) -> None:
        await devices.revoke_kiosk(session, runtime.clock, None, kiosk_id)

    run_in_session(_work)
    console.print(f"已停用自助查询机 {kiosk_id}")
