"""`yibao hotline serve`: the hotline's SIP adapter, answering calls on YIBAO_HOTLINE_SIP_HOST:PORT."""

from __future__ import annotations

import typer

from yibao.config import get_settings
from yibao.runtime import build_runtime

hotline_app = typer.Typer(help="The hotline (12333 / 12393): the voice menu on SIP.")


@hotline_app.command("serve")
def serve(
    host: str = typer.Option(None, help="Address to answer on (default YIBAO_HOTLINE_SIP_HOST)"),
    port: int = typer.Option(None, help="SIP port, UDP (default YIBAO_HOTLINE_SIP_PORT, 5070)"),
) -> None:
    """Answer SIP calls with the voice menu until interrupted (Ctrl-C)."""
    from yibao.hotline import sip  # PJSIP loads only for this command

    settings = get_settings()
    update: dict[str, object] = {}
    if host:
        update["hotline_sip_host"] = host
    if port:
        update["hotline_sip_port"] = port
    settings = settings.model_copy(update=update)
    settings.require_secrets()
    typer.echo(f"hotline: answering SIP on {settings.hotline_sip_host}:{settings.hotline_sip_port}")
    sip.serve(build_runtime(settings))
