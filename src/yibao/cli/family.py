"""family: the operators' 家庭共济 commands (the end-of-enrolment sweep)."""

from __future__ import annotations

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.cli.context import console, print_json, run_in_session
from yibao.family import service as family
from yibao.runtime import Runtime

family_app = typer.Typer(
    help="家庭共济: sweep authorisations whose enrolment ended", no_args_is_help=True
)


@family_app.command("sweep")
def sweep(as_json: bool = typer.Option(False, "--json")) -> None:
    """End every authorisation whose authoriser or beneficiary is no longer normally enrolled."""

    async def _work(runtime: Runtime, session: AsyncSession) -> int:
        return await family.end_when_enrolment_ended(session, runtime.clock)

    ended = run_in_session(_work)
    if as_json:
        print_json({"ended": ended})
    else:
        console.print(f"已终止 {ended} 项家庭共济授权（一方参保已终止或暂停）")
