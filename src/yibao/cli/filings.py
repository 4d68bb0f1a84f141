"""filings rules: show or set a region's 异地就医备案 rules (who may file which kinds, how long a
long-term 备案 holds before it may change, how long a temporary one holds)."""

from __future__ import annotations

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from yibao.cli.context import console, print_json, run_in_session
from yibao.filings import service as filings
from yibao.filings.domain import KIND_NAMES, RegionFilingRules, parse_kind
from yibao.runtime import Runtime

filings_app = typer.Typer(help="异地就医备案: a region's rules", no_args_is_help=True)


def _shown(admdvs: str, rules: RegionFilingRules) -> dict[str, object]:
    return {
        "admdvs": admdvs,
        "allowed_kinds": [k.value for k in KIND_NAMES if k in rules.allowed_kinds],
        "change_after_months": rules.change_after_months,
        "temporary_months": rules.temporary_months,
        "emergency_backdate_days": rules.emergency_backdate_days,
    }


@filings_app.command("rules")
def rules(
    admdvs: str = typer.Argument(..., help="参保地区划, e.g. 310000"),
    kinds: str | None = typer.Option(
        None, "--kinds", help="受理的备案类型, comma-separated codes or names (default: all)"
    ),
    change_after_months: int | None = typer.Option(None, "--change-after-months"),
    temporary_months: int | None = typer.Option(None, "--temporary-months"),
    emergency_backdate_days: int | None = typer.Option(None, "--emergency-backdate-days"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Show the region's rules; with any option, change those and keep the rest (audited)."""
    changing = any(
        v is not None
        for v in (kinds, change_after_months, temporary_months, emergency_backdate_days)
    )

    async def _work(runtime: Runtime, session: AsyncSession) -> RegionFilingRules:
        current = await filings.rules_of(session, admdvs)
        if not changing:
            return current
        new = RegionFilingRules(
            allowed_kinds=frozenset(parse_kind(k) for k in kinds.split(",") if k.strip())
            if kinds is not None
            else current.allowed_kinds,
            change_after_months=current.change_after_months
            if change_after_months is None
            else change_after_months,
            temporary_months=current.temporary_months
            if temporary_months is None
            else temporary_months,
            emergency_backdate_days=current.emergency_backdate_days
            if emergency_backdate_days is None
            else emergency_backdate_days,
        )
        await filings.set_rules(session, runtime.clock, None, admdvs, new)
        return new

    now = run_in_session(_work)
    if as_json:
        print_json(_shown(admdvs, now))
        return
    names = "、".join(name for kind, name in KIND_NAMES.items() if kind in now.allowed_kinds)
    console.print(
        f"{admdvs} 受理：{names}；长期备案满 {now.change_after_months} 个月可变更或撤销；"
        f"临时备案 {now.temporary_months} 个月；急诊可补办 {now.emergency_backdate_days} 天内",
        highlight=False,
        soft_wrap=True,
    )
